import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireCaller } from '../../callers/caller';
import type { Context } from '../../graphql/context';
import { TwoFactorSetupResult } from '../two-factor.types';
import type { SmsService } from './sms.service';
import { SmsCodeSent, SmsSetup } from './sms.types';

@Resolver()
export class SmsResolver {
  constructor(private readonly sms: SmsService) {}

  @Mutation(() => SmsSetup, {
    description:
      'Sends a code by SMS to the number (E.164). `code` (as below) is required when\ntwo-factor is already on; a new number replaces the old one only once confirmed.',
  })
  startSmsSetup(
    @Arg('phoneNumber') phoneNumber: string,
    @Arg('code', () => String, { nullable: true }) code: string | null,
    @Ctx() { caller, actor }: Context,
  ): Promise<SmsSetup> {
    return this.sms.startSetup(requireCaller(caller), actor, phoneNumber, code);
  }

  @Mutation(() => TwoFactorSetupResult, { description: 'Confirms with the code sent to the new number (that code alone).' })
  confirmSmsSetup(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<TwoFactorSetupResult> {
    return this.sms.confirmSetup(requireCaller(caller), actor, code);
  }

  @Mutation(() => SmsCodeSent, { description: "Sends a fresh SMS code to the user's confirmed number, for the step-up `code` arguments below." })
  sendSmsCode(@Ctx() { caller, actor }: Context): Promise<SmsCodeSent> {
    return this.sms.sendStepUpCode(requireCaller(caller), actor);
  }
}
