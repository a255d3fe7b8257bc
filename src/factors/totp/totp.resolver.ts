import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { AnswerArgs, StepUp } from '../../attempts/answer-args';
import type { Caller } from '../../callers/caller';
import { ChecksAnswer, SignedIn } from '../../graphql/auth';
import type { Context } from '../../graphql/context';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { TwoFactorStatus } from '../../users/user.types';
import type { TwoFactorService } from '../two-factor.service';
import { TwoFactorSetupResult } from '../two-factor.types';
import type { TotpService } from './totp.service';
import { TotpSetup } from './totp.types';

@Resolver()
export class TotpResolver {
  constructor(
    private readonly totp: TotpService,
    private readonly twoFactor: TwoFactorService,
  ) {}

  @Authorized()
  @Mutation(() => TotpSetup, {
    description:
      'Starts (or restarts) TOTP setup; nothing changes until it is confirmed.\n`code` (as below) is required when two-factor is already on.',
  })
  startTotpSetup(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TotpSetup> {
    return this.totp.startSetup(caller, actor, stepUp.answer);
  }

  @Authorized()
  @ChecksAnswer()
  @Mutation(() => TwoFactorSetupResult, {
    description: 'Confirms TOTP setup with a current code from the new authenticator (that code alone).',
  })
  confirmTotpSetup(
    @Arg('code') code: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorSetupResult> {
    return this.totp.confirmSetup(caller, actor, code);
  }

  @Authorized()
  @Mutation(() => TwoFactorStatus)
  removeTotp(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorStatus> {
    return this.twoFactor.removeFactor(actor, caller.subject, stepUp.answer, TwoFactorMethod.TOTP);
  }
}
