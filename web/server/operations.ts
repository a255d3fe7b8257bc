import { graphql } from './gql';

// The operations the web server sends as the login service and as directory sync.
// Checked against schema.graphql by GraphQL Code Generator at build time.

export const StartLoginChallenge = graphql(`
  mutation StartLoginChallenge($userId: ID!, $deviceToken: String) {
    startLoginChallenge(userId: $userId, deviceToken: $deviceToken) {
      id
      userId
      methods
      phoneNumberMasked
      expiresAt
      webAuthnOptions
      assertion
    }
  }
`);

export const SendLoginSmsCode = graphql(`
  mutation SendLoginSmsCode($challengeId: ID!) {
    sendLoginSmsCode(challengeId: $challengeId) {
      phoneNumberMasked
      codeExpiresAt
      resendAvailableAt
    }
  }
`);

export const VerifyLoginChallenge = graphql(`
  mutation VerifyLoginChallenge(
    $challengeId: ID!
    $code: String
    $webAuthn: JSON
    $rememberDevice: Boolean
    $deviceName: String
  ) {
    verifyLoginChallenge(
      challengeId: $challengeId
      code: $code
      webAuthn: $webAuthn
      rememberDevice: $rememberDevice
      deviceName: $deviceName
    ) {
      userId
      method
      assertion
      recoveryCodesRemaining
      deviceToken
      deviceTokenExpiresAt
    }
  }
`);

// Asked as the login service does before letting a session into an organization:
// with the session's amr, so the answer is for this sign-in, not only for the user.
export const OrganizationAccess = graphql(`
  query OrganizationAccess($organizationId: ID!, $userId: ID!, $sessionAmr: [String!]) {
    organizationAccess(organizationId: $organizationId, userId: $userId, sessionAmr: $sessionAmr) {
      allowed
      reason
      graceEndsAt
    }
  }
`);

export const UpsertOrganization = graphql(`
  mutation UpsertOrganization($id: ID!, $name: String!) {
    upsertOrganization(id: $id, name: $name) {
      id
    }
  }
`);

export const SetMembership = graphql(`
  mutation SetMembership($organizationId: ID!, $userId: ID!, $role: OrganizationRole!) {
    setMembership(organizationId: $organizationId, userId: $userId, role: $role) {
      role
    }
  }
`);
