import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Caller } from '../callers/caller';
import { SignedIn } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import {
  Member,
  MemberConnection,
  Membership,
  OrganizationCompliance,
  OrganizationView,
} from '../organizations/organization.types';
import type { EnforcementReads } from './enforcement-reads';
import { TwoFactorExemption, TwoFactorExemptionConnection, TwoFactorRequirementPreview } from './enforcement.types';
import type { Exemptions } from './exemptions';

/** Previewing a requirement, and exempting members from it. */
@Resolver()
export class EnforcementResolver {
  constructor(
    private readonly reads: EnforcementReads,
    private readonly exemptions: Exemptions,
  ) {}

  @Authorized()
  @Query(() => TwoFactorRequirementPreview, {
    nullable: true,
    description:
      'Owners of the organization and twofactor:read; null (with FORBIDDEN) for anyone else. What requireTwoFactor, or requirePhishingResistantTwoFactor with phishingResistant: true, would do now. Changes nothing; exact at a million members.',
  })
  previewTwoFactorRequirement(
    @IdArg('organizationId') organizationId: string,
    @Arg('phishingResistant', () => Boolean, { nullable: true, defaultValue: false }) phishingResistant: boolean | null,
    @SignedIn() caller: Caller,
  ): Promise<TwoFactorRequirementPreview> {
    return this.reads.preview(caller, organizationId, phishingResistant ?? false);
  }

  @Authorized()
  @Mutation(() => TwoFactorExemption, {
    description:
      "Owners. Exempts a member from the organization's requirement until `until` (later than now, at most 90 days ahead) with a reason. Never an owner (so never oneself): BAD_USER_INPUT. Granting again replaces the exemption. Audited; event organization.exemption_granted.",
  })
  async exemptFromTwoFactor(
    @IdArg('organizationId') organizationId: string,
    @IdArg('userId') userId: string,
    @Arg('until', () => Date) until: Date,
    @Arg('reason', () => String) reason: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorExemption> {
    const exemption = await this.exemptions.grant(caller, actor, organizationId, userId, until, reason);
    const { grantedBy, grantedAt, endsAt } = exemption;
    return Object.assign(new TwoFactorExemption(), { userId, reason: exemption.reason, grantedBy, grantedAt, endsAt });
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      "Owners. Ends the member's exemption now; false when there was none. Audited; event organization.exemption_ended (also sent when an exemption runs out).",
  })
  endTwoFactorExemption(
    @IdArg('organizationId') organizationId: string,
    @IdArg('userId') userId: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<boolean> {
    return this.exemptions.end(caller, actor, organizationId, userId);
  }
}

@Resolver(() => TwoFactorRequirementPreview)
export class RequirementPreviewResolver {
  constructor(private readonly reads: EnforcementReads) {}

  @FieldResolver(() => MemberConnection, {
    description: 'The affected members, ordered by user id, as Organization.members pages.',
  })
  affectedMembers(
    @Root() preview: TwoFactorRequirementPreview,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<MemberConnection> {
    return this.reads.affectedMembers(preview, first, after);
  }
}

/** Organization.twoFactorExemptions and compliance.membersExempt. */
@Resolver(() => OrganizationView)
export class OrganizationExemptionsResolver {
  constructor(private readonly reads: EnforcementReads) {}

  @FieldResolver(() => TwoFactorExemptionConnection, {
    nullable: true,
    description: 'As compliance. Exemptions that have not ended, soonest end first.',
  })
  twoFactorExemptions(
    @Root() organization: OrganizationView,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<TwoFactorExemptionConnection> {
    return this.reads.exemptionsOf(organization, first, after);
  }
}

@Resolver(() => OrganizationCompliance)
export class ComplianceExemptionsResolver {
  constructor(private readonly reads: EnforcementReads) {}

  @FieldResolver(() => Int, {
    description:
      "Members without an accepted factor (of the organization's requirement: a phishing-resistant one where it requires one) who are exempt now; also counted among those without it (membersWithoutTwoFactor, or the members without a phishing-resistant factor).",
  })
  membersExempt(@Root() compliance: OrganizationCompliance): Promise<number> {
    return this.reads.membersExempt(compliance);
  }
}

@Resolver(() => Member)
export class MemberExemptionResolver {
  constructor(private readonly reads: EnforcementReads) {}

  @FieldResolver(() => Date, {
    nullable: true,
    description: "When the member's exemption ends; null when not exempt. Owners and twofactor:read.",
  })
  exemptUntil(@Root() member: Member, @Ctx() context: Context): Promise<Date | null> {
    return this.reads.memberExemptUntil(context, member);
  }
}

@Resolver(() => Membership)
export class MembershipExemptionResolver {
  constructor(private readonly reads: EnforcementReads) {}

  @FieldResolver(() => Date, {
    nullable: true,
    description:
      "When the user's exemption from this organization's requirement ends; null when not exempt. Seen by the user and twofactor:read, as its memberships.",
  })
  exemptUntil(@Root() membership: Membership, @Ctx() context: Context): Promise<Date | null> {
    return this.reads.membershipExemptUntil(context, membership);
  }
}
