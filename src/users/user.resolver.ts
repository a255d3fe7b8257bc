import { Arg, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { hasScope, requireCaller, requireScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import type { Context } from '../graphql/context';
import { parseId } from '../ids';
import type { OrganizationService } from '../organizations/organization.service';
import { Membership } from '../organizations/organization.types';
import { TwoFactorStatus, UserView } from './user.types';

@Resolver(() => UserView)
export class UserResolver {
  constructor(private readonly organizations: OrganizationService) {}

  @Query(() => UserView, { description: 'The signed-in user.' })
  me(@Ctx() { caller }: Context): UserView {
    return UserView.full(requireCaller(caller).subject);
  }

  @Query(() => UserView, { description: 'The user itself, or twofactor:read. An id never seen before is a user without two-factor.' })
  user(@Arg('id', () => ID) id: string, @Ctx() { caller }: Context): UserView {
    const userId = parseId(id, 'id');
    if (requireCaller(caller).subject !== userId) requireScope(caller, 'twofactor:read');
    return UserView.full(userId);
  }

  @Query(() => [UserView], { description: 'twofactor:read. At most 100 ids; results in the order asked.' })
  users(@Arg('ids', () => [ID]) ids: string[], @Ctx() { caller }: Context): UserView[] {
    requireScope(caller, 'twofactor:read');
    if (ids.length > 100) throw badInput('ids may hold at most 100 ids.', 'ids');
    return ids.map((id) => UserView.full(parseId(id, 'ids')));
  }

  @FieldResolver(() => TwoFactorStatus)
  async twoFactor(@Root() user: UserView, @Ctx() { loaders }: Context): Promise<TwoFactorStatus> {
    const status = await loaders.twoFactorStatus.load(user.id);
    if (user.visibility === 'full') return status;
    // An owner sees whether a member has two-factor and with which methods, nothing else.
    const forbidden = (field: string) => () => {
      throw new AppError('FORBIDDEN', `Only ${user.id} and twofactor:read callers see ${field}.`);
    };
    return Object.defineProperties(
      { enabled: status.enabled, methods: status.methods, totp: null, sms: null, enabledAt: null } as TwoFactorStatus,
      { locked: { get: forbidden('locked') }, recoveryCodesRemaining: { get: forbidden('recoveryCodesRemaining') } },
    );
  }

  @FieldResolver(() => [Membership])
  memberships(@Root() user: UserView, @Ctx() { caller }: Context): Promise<Membership[]> {
    const authenticated = requireCaller(caller);
    if (user.visibility !== 'full' || (authenticated.subject !== user.id && !hasScope(caller, 'twofactor:read'))) {
      throw new AppError('FORBIDDEN', `Only ${user.id} and twofactor:read callers see its memberships.`);
    }
    return this.organizations.membershipsOf(user.id, authenticated);
  }
}
