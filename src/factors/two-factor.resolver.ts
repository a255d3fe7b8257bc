import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireCaller } from '../callers/caller';
import type { Context } from '../graphql/context';
import { TwoFactorStatus } from '../users/user.types';
import type { TwoFactorService } from './two-factor.service';

@Resolver()
export class TwoFactorResolver {
  constructor(private readonly twoFactor: TwoFactorService) {}

  @Mutation(() => TwoFactorStatus)
  removeTotp(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<TwoFactorStatus> {
    return this.twoFactor.removeFactor(actor, requireCaller(caller).subject, code, 'TOTP');
  }

  @Mutation(() => TwoFactorStatus)
  removeSms(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<TwoFactorStatus> {
    return this.twoFactor.removeFactor(actor, requireCaller(caller).subject, code, 'SMS');
  }

  @Mutation(() => TwoFactorStatus)
  disableTwoFactor(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<TwoFactorStatus> {
    return this.twoFactor.disable(actor, requireCaller(caller).subject, code);
  }
}
