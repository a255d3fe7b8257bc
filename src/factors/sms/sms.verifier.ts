import type { EntityManager } from 'typeorm';
import type { FactorRepository } from '../../infra/db/repositories/factor.repository';
import { TwoFactorMethod } from '../../users/user.types';
import { type CodePurpose, type CodeVerifier, isSixDigits } from '../factor';
import type { SmsCodeStore } from './sms-code-store';

/** Which live code answers a purpose: the step-up code, the login challenge's, or a setup's. */
export function smsPurposeKey(purpose: CodePurpose): string {
  switch (purpose.kind) {
    case 'setup':
      return `setup:${purpose.userId}`;
    case 'step-up':
      return `step-up:${purpose.userId}`;
    case 'login':
      return `login:${purpose.challengeId}`;
  }
}

/**
 * The step-up or login code last sent by SMS for exactly this purpose. It counts
 * only while the number it went to is still the user's confirmed number: a code
 * sent before the number was removed, replaced or reset is dead. (A setup's code
 * is checked against the pending number instead: SmsService.confirmSetup.)
 */
export class SmsVerifier implements CodeVerifier {
  readonly method = TwoFactorMethod.SMS;

  constructor(
    private readonly codes: SmsCodeStore,
    private readonly factors: FactorRepository,
  ) {}

  accepts(code: string): boolean {
    return isSixDigits(code);
  }

  async verify(manager: EntityManager, userId: string, code: string, purpose: CodePurpose): Promise<boolean> {
    if (purpose.kind === 'setup') return false;
    const factor = await this.factors.findSms(manager, userId);
    return factor !== null && this.codes.consume(smsPurposeKey(purpose), code, factor.phoneHash);
  }
}
