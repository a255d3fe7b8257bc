import { graphql } from './gql';

// Every operation the pages send, checked against ../schema.graphql at build time
// (npm run codegen): a field the service no longer has fails the build.

export const StatusFields = graphql(`
  fragment StatusFields on TwoFactorStatus {
    enabled
    locked
    methods
    recoveryCodesRemaining
    enabledAt
    phishingResistant
    totp {
      createdAt
      lastUsedAt
    }
    sms {
      phoneNumberMasked
      createdAt
      lastUsedAt
    }
    webAuthnCredentials {
      id
      name
      createdAt
      lastUsedAt
      synced
      transports
      aaguid
      authenticatorName
      attested
      deviceBound
      acceptedByOrganizations
    }
    trustedDevices {
      id
      name
      createdAt
      lastUsedAt
      expiresAt
    }
  }
`);

export const MeQuery = graphql(`
  query Me {
    me {
      id
      twoFactor {
        ...StatusFields
      }
      memberships {
        role
        exemptUntil
        organization {
          id
          name
          requiresTwoFactor
          requiresPhishingResistantTwoFactor
        }
      }
    }
  }
`);

export const StartTotpSetup = graphql(`
  mutation StartTotpSetup($code: String, $webAuthn: JSON) {
    startTotpSetup(code: $code, webAuthn: $webAuthn) {
      secret
      otpauthUri
      qrCodeSvg
      expiresAt
    }
  }
`);

export const ConfirmTotpSetup = graphql(`
  mutation ConfirmTotpSetup($code: String!) {
    confirmTotpSetup(code: $code) {
      status {
        ...StatusFields
      }
      recoveryCodes
    }
  }
`);

export const StartSmsSetup = graphql(`
  mutation StartSmsSetup($phoneNumber: String!, $code: String, $webAuthn: JSON, $locale: String) {
    startSmsSetup(phoneNumber: $phoneNumber, code: $code, webAuthn: $webAuthn, locale: $locale) {
      phoneNumberMasked
      codeExpiresAt
      resendAvailableAt
    }
  }
`);

export const ConfirmSmsSetup = graphql(`
  mutation ConfirmSmsSetup($code: String!) {
    confirmSmsSetup(code: $code) {
      status {
        ...StatusFields
      }
      recoveryCodes
    }
  }
`);

export const SendSmsCode = graphql(`
  mutation SendSmsCode {
    sendSmsCode {
      phoneNumberMasked
      codeExpiresAt
      resendAvailableAt
    }
  }
`);

export const StartWebAuthnStepUp = graphql(`
  mutation StartWebAuthnStepUp {
    startWebAuthnStepUp {
      options
      expiresAt
    }
  }
`);

export const StartWebAuthnRegistration = graphql(`
  mutation StartWebAuthnRegistration($code: String, $webAuthn: JSON) {
    startWebAuthnRegistration(code: $code, webAuthn: $webAuthn) {
      options
      expiresAt
    }
  }
`);

export const ConfirmWebAuthnRegistration = graphql(`
  mutation ConfirmWebAuthnRegistration($response: JSON!, $name: String) {
    confirmWebAuthnRegistration(response: $response, name: $name) {
      status {
        ...StatusFields
      }
      recoveryCodes
    }
  }
`);

export const RenameWebAuthnCredential = graphql(`
  mutation RenameWebAuthnCredential($id: ID!, $name: String!) {
    renameWebAuthnCredential(id: $id, name: $name) {
      id
      name
    }
  }
`);

export const RemoveWebAuthnCredential = graphql(`
  mutation RemoveWebAuthnCredential($id: ID!, $code: String, $webAuthn: JSON) {
    removeWebAuthnCredential(id: $id, code: $code, webAuthn: $webAuthn) {
      ...StatusFields
    }
  }
`);

export const RemoveTotp = graphql(`
  mutation RemoveTotp($code: String, $webAuthn: JSON) {
    removeTotp(code: $code, webAuthn: $webAuthn) {
      ...StatusFields
    }
  }
`);

export const RemoveSms = graphql(`
  mutation RemoveSms($code: String, $webAuthn: JSON) {
    removeSms(code: $code, webAuthn: $webAuthn) {
      ...StatusFields
    }
  }
`);

export const DisableTwoFactor = graphql(`
  mutation DisableTwoFactor($code: String, $webAuthn: JSON) {
    disableTwoFactor(code: $code, webAuthn: $webAuthn) {
      ...StatusFields
    }
  }
`);

export const ViewRecoveryCodes = graphql(`
  mutation ViewRecoveryCodes($code: String, $webAuthn: JSON) {
    viewRecoveryCodes(code: $code, webAuthn: $webAuthn) {
      codes {
        code
        usedAt
      }
      generatedAt
    }
  }
`);

export const RegenerateRecoveryCodes = graphql(`
  mutation RegenerateRecoveryCodes($code: String, $webAuthn: JSON) {
    regenerateRecoveryCodes(code: $code, webAuthn: $webAuthn) {
      codes {
        code
        usedAt
      }
      generatedAt
    }
  }
`);

export const OrganizationPolicyQuery = graphql(`
  query OrganizationPolicy($id: ID!) {
    organization(id: $id) {
      id
      name
      requiresTwoFactor
      requiresPhishingResistantTwoFactor
      twoFactorRequiredSince
      gracePeriodEndsAt
      allowsTrustedDevices
      acceptsIdentityProviderMfa
      authenticatorPolicy {
        allowedAaguids
        requireDeviceBound
      }
    }
  }
`);

export const OrganizationComplianceQuery = graphql(`
  query OrganizationCompliance($id: ID!, $first: Int!, $after: String) {
    organization(id: $id) {
      id
      compliance {
        totalMembers
        membersWithTwoFactor
        membersWithoutTwoFactor
        ownersWithoutTwoFactor
        membersWithPhishingResistant
        ownersWithoutPhishingResistant
        membersExempt
        compliant
      }
      members(first: $first, after: $after, filter: { twoFactorEnabled: false }) {
        totalCount
        edges {
          cursor
          node {
            user {
              id
            }
            role
            exemptUntil
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

export const PolicyFields = graphql(`
  fragment PolicyFields on Organization {
    id
    requiresTwoFactor
    requiresPhishingResistantTwoFactor
    twoFactorRequiredSince
    gracePeriodEndsAt
    allowsTrustedDevices
    acceptsIdentityProviderMfa
  }
`);

export const RequireTwoFactor = graphql(`
  mutation RequireTwoFactor($organizationId: ID!, $gracePeriodDays: Int!) {
    requireTwoFactor(organizationId: $organizationId, gracePeriodDays: $gracePeriodDays) {
      ...PolicyFields
    }
  }
`);

export const RequirePhishingResistantTwoFactor = graphql(`
  mutation RequirePhishingResistantTwoFactor($organizationId: ID!, $gracePeriodDays: Int!) {
    requirePhishingResistantTwoFactor(organizationId: $organizationId, gracePeriodDays: $gracePeriodDays) {
      ...PolicyFields
    }
  }
`);

export const StopRequiringTwoFactor = graphql(`
  mutation StopRequiringTwoFactor($organizationId: ID!) {
    stopRequiringTwoFactor(organizationId: $organizationId) {
      ...PolicyFields
    }
  }
`);

export const SetTrustedDevicesAllowed = graphql(`
  mutation SetTrustedDevicesAllowed($organizationId: ID!, $allowed: Boolean!) {
    setTrustedDevicesAllowed(organizationId: $organizationId, allowed: $allowed) {
      ...PolicyFields
    }
  }
`);

export const SetAcceptsIdentityProviderMfa = graphql(`
  mutation SetAcceptsIdentityProviderMfa($organizationId: ID!, $accepts: Boolean!) {
    setAcceptsIdentityProviderMfa(organizationId: $organizationId, accepts: $accepts) {
      ...PolicyFields
    }
  }
`);

export const RequirementPreviewQuery = graphql(`
  query RequirementPreview($id: ID!, $phishingResistant: Boolean!, $first: Int!) {
    previewTwoFactorRequirement(organizationId: $id, phishingResistant: $phishingResistant) {
      phishingResistant
      totalMembers
      ownersBlocking
      ownersBlockingCount
      membersAffected
      membersExempt
      affectedMembers(first: $first) {
        totalCount
        edges {
          cursor
          node {
            user {
              id
            }
            role
          }
        }
      }
    }
  }
`);

export const ExemptionsQuery = graphql(`
  query Exemptions($id: ID!) {
    organization(id: $id) {
      id
      twoFactorExemptions(first: 100) {
        totalCount
        edges {
          cursor
          node {
            userId
            reason
            grantedBy
            grantedAt
            endsAt
          }
        }
      }
    }
  }
`);

export const ExemptFromTwoFactor = graphql(`
  mutation ExemptFromTwoFactor($organizationId: ID!, $userId: ID!, $until: DateTimeISO!, $reason: String!) {
    exemptFromTwoFactor(organizationId: $organizationId, userId: $userId, until: $until, reason: $reason) {
      userId
      endsAt
    }
  }
`);

export const EndTwoFactorExemption = graphql(`
  mutation EndTwoFactorExemption($organizationId: ID!, $userId: ID!) {
    endTwoFactorExemption(organizationId: $organizationId, userId: $userId)
  }
`);

export const RevokeTrustedDevice = graphql(`
  mutation RevokeTrustedDevice($id: ID!) {
    revokeTrustedDevice(id: $id)
  }
`);

export const RevokeAllTrustedDevices = graphql(`
  mutation RevokeAllTrustedDevices {
    revokeAllTrustedDevices
  }
`);

export const AuthenticatorModelsQuery = graphql(`
  query AuthenticatorModels($search: String) {
    authenticatorModels(search: $search, first: 50) {
      totalCount
      edges {
        node {
          aaguid
          name
          certifications
          compromised
        }
      }
    }
  }
`);

export const KeysNotAcceptedQuery = graphql(`
  query KeysNotAccepted($id: ID!) {
    organization(id: $id) {
      id
      ownersWithoutAcceptedAuthenticator
      members(first: 50, filter: { phishingResistant: false }) {
        totalCount
        edges {
          node {
            user {
              id
            }
            role
          }
        }
      }
    }
  }
`);

export const SetAuthenticatorPolicy = graphql(`
  mutation SetAuthenticatorPolicy($organizationId: ID!, $allowedAaguids: [ID!]!, $requireDeviceBound: Boolean!) {
    setAuthenticatorPolicy(
      organizationId: $organizationId
      allowedAaguids: $allowedAaguids
      requireDeviceBound: $requireDeviceBound
    ) {
      id
      authenticatorPolicy {
        allowedAaguids
        requireDeviceBound
      }
      ownersWithoutAcceptedAuthenticator
    }
  }
`);
