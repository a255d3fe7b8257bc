import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireCaller } from '../../callers/caller';
import type { Context } from '../../graphql/context';
import type { RecoveryCodesService } from './recovery-codes.service';
import { RecoveryCodeList } from './recovery-codes.types';

@Resolver()
export class RecoveryCodesResolver {
  constructor(private readonly recoveryCodes: RecoveryCodesService) {}

  @Mutation(() => RecoveryCodeList, {
    description: 'Step-up: `code` is a current TOTP or SMS code, or an unused recovery code (which is then used up).',
  })
  viewRecoveryCodes(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<RecoveryCodeList> {
    return this.recoveryCodes.view(actor, requireCaller(caller).subject, code);
  }

  @Mutation(() => RecoveryCodeList)
  regenerateRecoveryCodes(@Arg('code') code: string, @Ctx() { caller, actor }: Context): Promise<RecoveryCodeList> {
    return this.recoveryCodes.regenerate(actor, requireCaller(caller).subject, code);
  }
}
