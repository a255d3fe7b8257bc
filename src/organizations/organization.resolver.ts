import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Caller } from '../callers/caller';
import { SignedIn } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import { LIMITS } from '../limits';
import type { OrganizationPolicyService } from './organization-policy.service';
import type { OrganizationService } from './organization.service';
import {
  AuthenticatorPolicy,
  MemberConnection,
  MemberFilter,
  OrganizationAccess,
  OrganizationCompliance,
  OrganizationView,
} from './organization.types';

@Resolver(() => OrganizationView)
export class OrganizationResolver {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly policy: OrganizationPolicyService,
  ) {}

  @Authorized()
  @Query(() => OrganizationView, {
    nullable: true,
    description: 'Members of the organization, and twofactor:read; null when it does not exist.',
  })
  organization(@IdArg('id') id: string, @SignedIn() caller: Caller): Promise<OrganizationView | null> {
    return this.organizations.view(caller, id);
  }

  @Authorized('twofactor:read')
  @Query(() => OrganizationAccess, {
    description:
      'twofactor:read. Whether the user may use the organization now, under its two-factor policy, in the session that signed in with sessionAmr.',
  })
  organizationAccess(
    @IdArg('organizationId') organizationId: string,
    @IdArg('userId') userId: string,
    @Arg('sessionAmr', () => [String], {
      nullable: true,
      description: `The amr of the session the user acts in (e.g. ["pwd", "hwk"]: the login assertion's amr after the password's), at most ${LIMITS.maxSessionAmrValues} values, each 1 to ${LIMITS.maxSessionAmrValueLength} printable ASCII characters. Without it a phishing-resistant requirement refuses a member who has a key (SESSION_FACTOR_NOT_ACCEPTED).`,
    })
    sessionAmr: string[] | null,
  ): Promise<OrganizationAccess> {
    return this.organizations.access(organizationId, userId, sessionAmr);
  }

  @Authorized()
  @Mutation(() => OrganizationView, {
    description: 'Refused with OWNERS_WITHOUT_TWO_FACTOR while any owner lacks two-factor.',
  })
  requireTwoFactor(
    @IdArg('organizationId') organizationId: string,
    @Arg('gracePeriodDays', () => Int, { nullable: true, defaultValue: 0 }) gracePeriodDays: number | null,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.requireTwoFactor(caller, actor, organizationId, gracePeriodDays);
  }

  @Authorized()
  @Mutation(() => OrganizationView, {
    description:
      'Owners. As requireTwoFactor, but only a security key the authenticator policy accepts satisfies it; refused with OWNERS_WITHOUT_TWO_FACTOR while any owner has none. requireTwoFactor relaxes it back to any factor; stopRequiringTwoFactor ends both.',
  })
  requirePhishingResistantTwoFactor(
    @IdArg('organizationId') organizationId: string,
    @Arg('gracePeriodDays', () => Int, { nullable: true, defaultValue: 0 }) gracePeriodDays: number | null,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.requirePhishingResistantTwoFactor(caller, actor, organizationId, gracePeriodDays);
  }

  @Authorized()
  @Mutation(() => OrganizationView)
  stopRequiringTwoFactor(
    @IdArg('organizationId') organizationId: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.stopRequiringTwoFactor(caller, actor, organizationId);
  }

  @Authorized()
  @Mutation(() => OrganizationView, {
    description:
      'Owners. allowed: false stops every member from skipping the second factor on a trusted device (their devices stay, and work again if allowed again before they expire).',
  })
  setTrustedDevicesAllowed(
    @IdArg('organizationId') organizationId: string,
    @Arg('allowed', () => Boolean) allowed: boolean,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.setTrustedDevicesAllowed(caller, actor, organizationId, allowed);
  }

  @Authorized()
  @Mutation(() => OrganizationView, {
    description:
      'Owners. Whether multi-factor done at the identity provider meets an any-factor requirement. Default false. Audited; event organization.policy_changed.',
  })
  setAcceptsIdentityProviderMfa(
    @IdArg('organizationId') organizationId: string,
    @Arg('accepts', () => Boolean) accepts: boolean,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.setAcceptsIdentityProviderMfa(caller, actor, organizationId, accepts);
  }

  @FieldResolver(() => OrganizationCompliance, {
    nullable: true,
    description:
      'Owners of the organization, and callers with the twofactor:read scope; for anyone else null with a FORBIDDEN error.',
  })
  compliance(@Root() organization: OrganizationView): Promise<OrganizationCompliance> {
    return this.organizations.compliance(organization);
  }

  @FieldResolver(() => AuthenticatorPolicy, {
    description:
      'Which keys meet the phishing-resistant requirement (whenever it applies). Anyone who sees the organization.',
  })
  authenticatorPolicy(@Root() organization: OrganizationView): AuthenticatorPolicy {
    return AuthenticatorPolicy.of(organization.record);
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description:
      'As compliance: owners and twofactor:read. Owners without a credential the authenticator policy accepts (and the loaded Metadata Service blob does not report compromised).',
  })
  ownersWithoutAcceptedAuthenticator(@Root() organization: OrganizationView): Promise<number> {
    return this.organizations.ownersWithoutAcceptedAuthenticator(organization);
  }

  @Authorized()
  @Mutation(() => OrganizationView, {
    description:
      "Owners. Sets which keys meet the organization's phishing-resistant requirement (it takes effect whenever that requirement applies). Refused with OWNERS_WITHOUT_TWO_FACTOR when an owner has no credential the new policy accepts, atomically as requireTwoFactor. Unknown AAGUIDs (not in the loaded blob) are BAD_USER_INPUT. Audited; event organization.policy_changed.",
  })
  setAuthenticatorPolicy(
    @IdArg('organizationId') organizationId: string,
    @Arg('allowedAaguids', () => [ID]) allowedAaguids: string[],
    @Arg('requireDeviceBound', () => Boolean) requireDeviceBound: boolean,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.setAuthenticatorPolicy(caller, actor, organizationId, allowedAaguids, requireDeviceBound);
  }

  @FieldResolver(() => MemberConnection, {
    nullable: true,
    description: 'As compliance. Ordered by user id (byte order). totalCount counts after the filter.',
  })
  members(
    @Root() organization: OrganizationView,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => MemberFilter, { nullable: true }) filter: MemberFilter | null,
  ): Promise<MemberConnection> {
    return this.organizations.members(organization, first, after, filter);
  }
}
