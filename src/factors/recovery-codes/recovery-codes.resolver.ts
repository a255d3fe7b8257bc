import { Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { AnswerArgs, StepUp } from '../../attempts/answer-args';
import type { Caller } from '../../callers/caller';
import { SignedIn } from '../../graphql/auth';
import type { Context } from '../../graphql/context';
import type { RecoveryCodesService } from './recovery-codes.service';
import { RecoveryCodeList } from './recovery-codes.types';

@Resolver()
export class RecoveryCodesResolver {
  constructor(private readonly recoveryCodes: RecoveryCodesService) {}

  @Authorized()
  @Mutation(() => RecoveryCodeList, {
    description: 'Step-up: `code` is a current TOTP or SMS code, or an unused recovery code (which is then used up).',
  })
  viewRecoveryCodes(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<RecoveryCodeList> {
    return this.recoveryCodes.view(actor, caller.subject, stepUp.answer);
  }

  @Authorized()
  @Mutation(() => RecoveryCodeList)
  regenerateRecoveryCodes(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<RecoveryCodeList> {
    return this.recoveryCodes.regenerate(actor, caller.subject, stepUp.answer);
  }
}
