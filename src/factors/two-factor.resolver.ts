import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Caller } from '../callers/caller';
import { ChecksAnswer, SignedIn } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { TwoFactorStatus } from '../users/user.types';
import { codeAnswer } from './factor';
import type { TwoFactorService } from './two-factor.service';

@Resolver()
export class TwoFactorResolver {
  constructor(private readonly twoFactor: TwoFactorService) {}

  @Authorized()
  @ChecksAnswer()
  @Mutation(() => TwoFactorStatus)
  disableTwoFactor(@Arg('code') code: string, @SignedIn() caller: Caller, @Ctx() { actor }: Context): Promise<TwoFactorStatus> {
    return this.twoFactor.disable(actor, caller.subject, codeAnswer(code));
  }
}
