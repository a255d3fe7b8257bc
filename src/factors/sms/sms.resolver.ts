import { Arg, Authorized, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { AnswerArgs, StepUp } from '../../attempts/answer-args';
import type { Caller } from '../../callers/caller';
import { ChecksAnswer, SignedIn } from '../../graphql/auth';
import type { Context } from '../../graphql/context';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { TwoFactorStatus } from '../../users/user.types';
import type { TwoFactorService } from '../two-factor.service';
import { TwoFactorSetupResult } from '../two-factor.types';
import type { SmsService } from './sms.service';
import { SmsCodeSent, SmsSetup } from './sms.types';

@Resolver()
export class SmsResolver {
  constructor(
    private readonly sms: SmsService,
    private readonly twoFactor: TwoFactorService,
  ) {}

  @Authorized()
  @Mutation(() => SmsSetup, {
    description:
      'Sends a code by SMS to the number (E.164). `code` (as below) is required when\ntwo-factor is already on; a new number replaces the old one only once confirmed.',
  })
  startSmsSetup(
    @Arg('phoneNumber') phoneNumber: string,
    @StepUp() stepUp: AnswerArgs,
    @Arg('locale', () => String, {
      nullable: true,
      description:
        'The language of SMS to this number, a BCP 47 tag (e.g. de, pt-BR); default en. A tag without a text of its own reads en.',
    })
    locale: string | null | undefined,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<SmsSetup> {
    return this.sms.startSetup(caller, actor, phoneNumber, stepUp.answer, locale);
  }

  @Authorized()
  @ChecksAnswer()
  @Mutation(() => TwoFactorSetupResult, {
    description: 'Confirms with the code sent to the new number (that code alone).',
  })
  confirmSmsSetup(
    @Arg('code') code: string,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorSetupResult> {
    return this.sms.confirmSetup(caller, actor, code);
  }

  @Authorized()
  @Mutation(() => SmsCodeSent, {
    description: "Sends a fresh SMS code to the user's confirmed number, for the step-up `code` arguments below.",
  })
  sendSmsCode(@SignedIn() caller: Caller, @Ctx() { actor }: Context): Promise<SmsCodeSent> {
    return this.sms.sendStepUpCode(caller, actor);
  }

  @Mutation(() => SmsCodeSent, { description: 'No token needed: the challenge id is the credential.' })
  sendLoginSmsCode(@Arg('challengeId', () => ID) challengeId: string, @Ctx() { actor }: Context): Promise<SmsCodeSent> {
    return this.sms.sendLoginCode(actor, challengeId);
  }

  @Authorized()
  @Mutation(() => TwoFactorStatus)
  removeSms(
    @StepUp() stepUp: AnswerArgs,
    @SignedIn() caller: Caller,
    @Ctx() { actor }: Context,
  ): Promise<TwoFactorStatus> {
    return this.twoFactor.removeFactor(actor, caller.subject, stepUp.answer, TwoFactorMethod.SMS);
  }
}
