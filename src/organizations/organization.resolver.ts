import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { requireCaller, requireScope } from '../callers/caller';
import type { Context } from '../graphql/context';
import { parseId } from '../ids';
import type { OrganizationPolicyService } from './organization-policy.service';
import type { OrganizationService } from './organization.service';
import {
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

  @Query(() => OrganizationView, { nullable: true, description: 'Members of the organization, and twofactor:read; null when it does not exist.' })
  organization(@Arg('id', () => ID) id: string, @Ctx() { caller }: Context): Promise<OrganizationView | null> {
    return this.organizations.view(requireCaller(caller), parseId(id, 'id'));
  }

  @Query(() => OrganizationAccess, { description: 'twofactor:read. Whether the user may use the organization now, under its two-factor policy.' })
  organizationAccess(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId', () => ID) userId: string,
    @Ctx() { caller }: Context,
  ): Promise<OrganizationAccess> {
    requireScope(caller, 'twofactor:read');
    return this.organizations.access(parseId(organizationId, 'organizationId'), parseId(userId, 'userId'));
  }

  @Mutation(() => OrganizationView, { description: 'Refused with OWNERS_WITHOUT_TWO_FACTOR while any owner lacks two-factor.' })
  requireTwoFactor(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('gracePeriodDays', () => Int, { nullable: true, defaultValue: 0 }) gracePeriodDays: number | null,
    @Ctx() { caller, actor }: Context,
  ): Promise<OrganizationView> {
    return this.policy.requireTwoFactor(requireCaller(caller), actor, parseId(organizationId, 'organizationId'), gracePeriodDays);
  }

  @Mutation(() => OrganizationView)
  stopRequiringTwoFactor(@Arg('organizationId', () => ID) organizationId: string, @Ctx() { caller, actor }: Context): Promise<OrganizationView> {
    return this.policy.stopRequiringTwoFactor(requireCaller(caller), actor, parseId(organizationId, 'organizationId'));
  }

  @FieldResolver(() => OrganizationCompliance, {
    nullable: true,
    description: 'Owners of the organization, and callers with the twofactor:read scope; for anyone else null with a FORBIDDEN error.',
  })
  compliance(@Root() organization: OrganizationView): OrganizationCompliance {
    return this.organizations.compliance(organization);
  }

  @FieldResolver(() => MemberConnection, { nullable: true, description: 'As compliance. Ordered by user id (byte order). totalCount counts after the filter.' })
  members(
    @Root() organization: OrganizationView,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Arg('filter', () => MemberFilter, { nullable: true }) filter: MemberFilter | null,
  ): Promise<MemberConnection> {
    return this.organizations.members(organization, first, after, filter);
  }
}
