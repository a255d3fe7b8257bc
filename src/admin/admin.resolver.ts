import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireScope } from '../callers/caller';
import type { Context } from '../graphql/context';
import { parseId } from '../ids';
import { TwoFactorStatus } from '../users/user.types';
import type { AdminService } from './admin.service';

/** Support (twofactor:admin). */
@Resolver()
export class AdminResolver {
  constructor(private readonly admin: AdminService) {}

  @Mutation(() => TwoFactorStatus, { description: 'Removes every second factor and recovery code of the user; audited with the reason.' })
  resetTwoFactor(@Arg('userId', () => ID) userId: string, @Arg('reason') reason: string, @Ctx() { caller, actor }: Context): Promise<TwoFactorStatus> {
    requireScope(caller, 'twofactor:admin');
    return this.admin.resetTwoFactor(actor, parseId(userId, 'userId'), reason);
  }
}
