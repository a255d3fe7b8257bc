import { Arg, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { type Caller, hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import { SignedIn } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import { parseId } from '../ids';
import { LIMITS } from '../limits';
import type { TwoFactorStatusReader } from './two-factor-status.reader';
import { MEMBER_SUMMARY_OF, TwoFactorStatus, UserView } from './user.types';

@Resolver(() => UserView)
export class UserResolver {
  constructor(private readonly statuses: TwoFactorStatusReader) {}

  @Authorized()
  @Query(() => UserView, { description: 'The signed-in user.' })
  me(@SignedIn() caller: Caller): UserView {
    return UserView.full(caller.subject);
  }

  @Authorized()
  @Query(() => UserView, {
    description: 'The user itself, or twofactor:read. An id never seen before is a user without two-factor.',
  })
  user(@IdArg('id') userId: string, @SignedIn() caller: Caller): UserView {
    if (caller.subject !== userId && !caller.scopes.has('twofactor:read')) {
      throw new AppError('FORBIDDEN', 'This needs the twofactor:read scope.');
    }
    return UserView.full(userId);
  }

  @Authorized('twofactor:read')
  @Query(() => [UserView], { description: 'twofactor:read. At most 100 ids; results in the order asked.' })
  users(@Arg('ids', () => [ID]) ids: string[]): UserView[] {
    if (ids.length > LIMITS.maxIdsPerQuery) throw badInput(`ids may hold at most ${LIMITS.maxIdsPerQuery} ids.`, 'ids');
    return ids.map((id) => UserView.full(parseId(id, 'ids')));
  }

  @FieldResolver(() => TwoFactorStatus)
  async twoFactor(@Root() user: UserView, @Ctx() context: Context): Promise<TwoFactorStatus> {
    const status = await this.statuses.inRequest(context, user.id);
    // An owner sees whether a member has two-factor and with which methods, nothing else.
    if (user.visibility === 'full') return status;
    return {
      enabled: status.enabled,
      methods: status.methods,
      totp: null,
      sms: null,
      enabledAt: null,
      [MEMBER_SUMMARY_OF]: user.id,
    } as unknown as TwoFactorStatus;
  }
}

export const mayReadUser = (caller: Caller, user: UserView) =>
  user.visibility === 'full' && (caller.subject === user.id || hasScope(caller, 'twofactor:read'));
