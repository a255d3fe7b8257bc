import {
  type Accepted,
  type Answer,
  type AnswerPurpose,
  type Enrollment,
  type FactorCheck,
  isSixDigits,
  type SecondFactor,
} from '../../attempts/second-factor';
import { TwoFactorMethod } from '../../users/two-factor-method';
import type { SmsCodeStore } from './sms-code-store';
import type { SmsFactorRepository } from './sms-factor.repository';
import { SMS_STATUS } from './sms-factor.repository';

/** Which live code answers a purpose: the step-up code, the login challenge's, or a setup's. */
export function smsPurposeKey(purpose: AnswerPurpose): string {
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
const ACCEPTED: Accepted = { amr: ['sms'] };

export class SmsFactor implements SecondFactor {
  readonly method = TwoFactorMethod.SMS;
  readonly refusedWhenLocked = true;
  readonly enrollment: Enrollment;
  readonly statusPart = SMS_STATUS;

  constructor(
    private readonly codes: SmsCodeStore,
    private readonly numbers: SmsFactorRepository,
  ) {
    this.enrollment = {
      method: TwoFactorMethod.SMS,
      noun: 'phone number',
      enabledAction: 'SMS_ENABLED',
      removedAction: 'SMS_REMOVED',
      count: (manager, userId) => numbers.count(manager, userId),
      credentials: async (manager, userId) =>
        (await numbers.count(manager, userId)) > 0 ? [{ id: 'sms', type: 'phone-sms' }] : [],
      removeAll: (manager, userId) => numbers.delete(manager, userId),
      eventDetails: async (manager, userId) => {
        const number = await numbers.find(manager, userId);
        return number ? { phoneNumberMasked: number.phoneMasked } : {};
      },
    };
  }

  accepts({ code }: Answer): boolean {
    return code !== undefined && isSixDigits(code);
  }

  reads(userId: string, _answer: Answer, purpose: AnswerPurpose) {
    return purpose.kind === 'setup' ? [] : [this.numbers.phoneHashRead(userId)];
  }

  async verify({ manager, user, answer: { code }, purpose, rows, now }: FactorCheck): Promise<Accepted | null> {
    if (purpose.kind === 'setup' || code === undefined) return null;
    const phoneHash = this.numbers.phoneHashOf(rows[0]);
    if (phoneHash === null || !(await this.codes.consume(smsPurposeKey(purpose), code, phoneHash))) return null;
    await this.numbers.recordUse(manager, user.id, now);
    return ACCEPTED;
  }
}
