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

/** The code last sent by SMS for exactly this purpose. */
export class SmsVerifier implements CodeVerifier {
  readonly method = TwoFactorMethod.SMS;

  constructor(private readonly codes: SmsCodeStore) {}

  accepts(code: string): boolean {
    return isSixDigits(code);
  }

  async verify(_manager: unknown, _userId: string, code: string, purpose: CodePurpose): Promise<boolean> {
    return this.codes.consume(smsPurposeKey(purpose), code);
  }
}
