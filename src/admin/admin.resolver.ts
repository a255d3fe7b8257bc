import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import { TwoFactorStatus } from '../users/user.types';
import type { AdminService } from './admin.service';

/** Support (twofactor:admin). */
@Resolver()
export class AdminResolver {
  constructor(private readonly admin: AdminService) {}

  @Authorized('twofactor:admin')
  @Mutation(() => TwoFactorStatus, {
    description: 'Removes every second factor and recovery code of the user; audited with the reason.',
  })
  resetTwoFactor(
    @IdArg('userId') userId: string,
    @Arg('reason') reason: string,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorStatus> {
    return this.admin.resetTwoFactor(actor, userId, reason);
  }
}
