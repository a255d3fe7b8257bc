import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireCaller } from '../../callers/caller';
import type { Context } from '../../graphql/context';
import { TwoFactorSetupResult } from '../two-factor.types';
import type { TotpService } from './totp.service';
import { TotpSetup } from './totp.types';

@Resolver()
export class TotpResolver {
  constructor(private readonly totp: TotpService) {}

  @Mutation(() => TotpSetup, {
    description: 'Starts (or restarts) TOTP setup; nothing changes until it is confirmed.\n`code` (as below) is required when two-factor is already on.',
  })
  startTotpSetup(@Arg('code', () => String, { nullable: true }) code: string | null, @Ctx() { caller, actor }: Context): Promise<TotpSetup> {
    return this.totp.startSetup(requireCaller(caller), actor, code);
  }

  @Mutation(() => TwoFactorSetupResult, { description: 'Confirms TOTP setup with a current code from the new authenticator (that code alone).' })
  confirmTotpSetup(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<TwoFactorSetupResult> {
    return this.totp.confirmSetup(requireCaller(caller), actor, code);
  }
}
