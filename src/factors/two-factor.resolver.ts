import { Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { AnswerArgs, StepUp } from '../attempts/answer-args';
import type { Caller } from '../callers/caller';
import { SignedIn } from '../graphql/auth';
import type { Context } from '../graphql/context';
import { TwoFactorStatus } from '../users/user.types';
import type { TwoFactorService } from './two-factor.service';

@Resolver()
export class TwoFactorResolver {
  constructor(private readonly twoFactor: TwoFactorService) {}

  @Authorized()
  @Mutation(() => TwoFactorStatus)
  disableTwoFactor(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorStatus> {
    return this.twoFactor.disable(actor, caller.subject, stepUp.answer);
  }
}
