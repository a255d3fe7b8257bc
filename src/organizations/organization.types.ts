import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import { UserView } from '../users/user.types';
import { OrganizationRole } from './organization-role';
import type { OrganizationRecord } from './organization.entity';

export enum OrganizationAccessReason {
  OK = 'OK',
  NOT_A_MEMBER = 'NOT_A_MEMBER',
  TWO_FACTOR_REQUIRED = 'TWO_FACTOR_REQUIRED',
  GRACE_PERIOD = 'GRACE_PERIOD',
  PHISHING_RESISTANT_REQUIRED = 'PHISHING_RESISTANT_REQUIRED',
  SESSION_FACTOR_NOT_ACCEPTED = 'SESSION_FACTOR_NOT_ACCEPTED',
  EXEMPT = 'EXEMPT',
  IDENTITY_PROVIDER_MFA = 'IDENTITY_PROVIDER_MFA',
}
registerEnumType(OrganizationAccessReason, {
  name: 'OrganizationAccessReason',
  valuesConfig: {
    OK: { description: "A member, and the organization's two-factor policy is met." },
    NOT_A_MEMBER: { description: 'Not a member of the organization.' },
    TWO_FACTOR_REQUIRED: { description: 'The organization requires two-factor authentication and the user has none.' },
    GRACE_PERIOD: {
      description:
        'As TWO_FACTOR_REQUIRED or PHISHING_RESISTANT_REQUIRED, but the grace period still runs: access is allowed until graceEndsAt.',
    },
    PHISHING_RESISTANT_REQUIRED: {
      description:
        'The organization requires a phishing-resistant factor (a security key or passkey) and the user has none; refused (or allowed until graceEndsAt, with GRACE_PERIOD).',
    },
    SESSION_FACTOR_NOT_ACCEPTED: {
      description:
        'The session holds no factor that the requirement accepts (sessionAmr), though the user could sign in with one: refused until the user signs in again with it. Under a phishing-resistant requirement also when sessionAmr is not given and the user has a key (it fails closed).',
    },
    EXEMPT: {
      description:
        'The organization requires two-factor, the user has no accepted factor, and an owner exempted the user until exemptUntil: allowed.',
    },
    IDENTITY_PROVIDER_MFA: {
      description:
        'sessionAmr holds "mfa" from the identity provider, and the organization accepts multi-factor done there (only where no phishing-resistant factor is required): allowed.',
    },
  },
});

/** How the caller relates to an organization: decides which fields it may read. */
export type OrganizationViewer = 'member' | 'owner' | 'reader';

@ObjectType('Organization')
export class OrganizationView {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  requiresTwoFactor: boolean;

  @Field({
    description:
      'True when two-factor is required and only a security key the authenticator policy accepts satisfies it.',
  })
  requiresPhishingResistantTwoFactor: boolean;

  @Field(() => Date, { nullable: true })
  twoFactorRequiredSince: Date | null;

  @Field(() => Date, { nullable: true, description: 'Null when no grace period was given, or it has ended.' })
  gracePeriodEndsAt: Date | null;

  @Field({
    description: 'False when owners forbid their members to skip the second factor on trusted devices.',
  })
  allowsTrustedDevices: boolean;

  @Field({
    description:
      'Whether multi-factor done at the identity provider (sessionAmr holding "mfa") meets an any-factor requirement. Never meets a phishing-resistant one.',
  })
  acceptsIdentityProviderMfa: boolean;

  record: OrganizationRecord;
  viewer: OrganizationViewer;

  static of(record: OrganizationRecord, viewer: OrganizationViewer, now: Date): OrganizationView {
    return Object.assign(new OrganizationView(), {
      id: record.id,
      name: record.name,
      requiresTwoFactor: record.requiresTwoFactor,
      requiresPhishingResistantTwoFactor: record.requiresTwoFactor && record.requiresPhishingResistant,
      twoFactorRequiredSince: record.twoFactorRequiredSince,
      gracePeriodEndsAt: record.gracePeriodEndsAt && record.gracePeriodEndsAt > now ? record.gracePeriodEndsAt : null,
      allowsTrustedDevices: record.allowsTrustedDevices,
      acceptsIdentityProviderMfa: record.acceptsIdentityProviderMfa,
      record,
      viewer,
    });
  }
}

@ObjectType({ simpleResolvers: true })
export class OrganizationCompliance {
  @Field(() => Int)
  totalMembers: number;

  @Field(() => Int)
  membersWithTwoFactor: number;

  @Field(() => Int)
  membersWithoutTwoFactor: number;

  @Field(() => Int)
  ownersWithoutTwoFactor: number;

  @Field(() => Int, { description: 'Members with at least one security key the authenticator policy accepts.' })
  membersWithPhishingResistant: number;

  @Field(() => Int)
  ownersWithoutPhishingResistant: number;

  @Field({
    description:
      'True when the organization does not require two-factor, or every member meets what it requires (an accepted security key, when it requires phishing-resistant two-factor).',
  })
  compliant: boolean;

  /** Whose counts these are, and against which requirement (membersExempt is read with them: src/enforcement/). */
  organizationId: string;
  phishingResistant: boolean;
  /** The organization's key sets its authenticator policy does not accept now (no key included). */
  rejectedKeySetIds: number[];
}

@InputType()
export class MemberFilter {
  @Field({ nullable: true })
  twoFactorEnabled?: boolean;

  @Field(() => OrganizationRole, { nullable: true })
  role?: OrganizationRole;

  @Field({ nullable: true })
  phishingResistant?: boolean;
}

@ObjectType()
export class Member {
  @Field(() => UserView)
  user: UserView;

  @Field(() => OrganizationRole)
  role: OrganizationRole;

  @Field()
  twoFactorEnabled: boolean;

  /** The organization the member is one of (Member.exemptUntil reads it). */
  organizationId: string;

  /** A row of a members page, as the organization's viewer may see the user (twofactor:read: all of it). */
  static of(organization: OrganizationView, row: { userId: string; role: string; twoFactorEnabled: boolean }): Member {
    return {
      user: organization.viewer === 'reader' ? UserView.full(row.userId) : UserView.summary(row.userId),
      role: row.role as OrganizationRole,
      twoFactorEnabled: row.twoFactorEnabled,
      organizationId: organization.id,
    };
  }
}

@ObjectType()
export class MemberConnection extends Connection('Member', Member) {
  @Field(() => Int)
  totalCount: number;
}

/** The hottest read: plain fields, no per-field middleware wrappers. */
@ObjectType({ simpleResolvers: true })
export class OrganizationAccess {
  @Field()
  allowed: boolean;

  @Field(() => OrganizationAccessReason)
  reason: OrganizationAccessReason;

  @Field(() => Date, { nullable: true })
  graceEndsAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'With reason EXEMPT: when the exemption ends.' })
  exemptUntil: Date | null;
}

@ObjectType()
export class Membership {
  @Field(() => OrganizationView)
  organization: OrganizationView;

  @Field(() => OrganizationRole)
  role: OrganizationRole;

  /** Whose membership it is (Membership.exemptUntil reads it). */
  userId: string;
}

@ObjectType({ description: "Which keys meet an organization's phishing-resistant requirement." })
export class AuthenticatorPolicy {
  @Field(() => [ID], {
    description:
      'Empty: any model. Otherwise only credentials attested as one of these AAGUIDs meet a phishing-resistant requirement.',
  })
  allowedAaguids: string[];

  @Field({ description: 'Only device-bound keys (not synced passkeys) meet a phishing-resistant requirement.' })
  requireDeviceBound: boolean;

  static of(record: { allowedAaguids: string; requireDeviceBound: boolean }): AuthenticatorPolicy {
    return Object.assign(new AuthenticatorPolicy(), {
      allowedAaguids: record.allowedAaguids ? record.allowedAaguids.split(',') : [],
      requireDeviceBound: record.requireDeviceBound,
    });
  }
}
