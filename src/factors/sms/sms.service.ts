import type { Actor, AuditLog } from '../../audit/audit-log';
import type { Caller } from '../../callers/caller';
import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { Database } from '../../infra/db/database';
import type { FactorRepository } from '../../infra/db/repositories/factor.repository';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorSetupResult } from '../two-factor.types';
import { parsePhoneNumber } from './phone-number';
import type { SentCode, SmsDispatcher } from './sms-dispatcher';
import type { SmsCodeStore } from './sms-code-store';
import { smsPurposeKey } from './sms.verifier';
import { TwoFactorMethod } from '../../users/user.types';
import { isSixDigits } from '../factor';

/** Setting up, confirming and sending codes to an SMS-enabled phone number (removing it: TwoFactorService). */
export class SmsService {
  constructor(
    private readonly setup: FactorSetup,
    private readonly database: Database,
    private readonly factors: FactorRepository,
    private readonly codes: SmsCodeStore,
    private readonly dispatcher: SmsDispatcher,
    private readonly secrets: SecretBox,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly allowedCountries: string[] | null,
  ) {}

  /**
   * Sends a code to the new number. With two-factor on, a step-up code is needed
   * and the new number replaces the old one only once confirmed.
   */
  async startSetup(caller: Caller, actor: Actor, phoneNumber: string, code: string | null | undefined): Promise<SentCode> {
    const userId = caller.subject;
    const phone = parsePhoneNumber(phoneNumber, this.allowedCountries);
    const lookupHash = this.secrets.hash(phone.e164);
    const purposeKey = smsPurposeKey({ kind: 'setup', userId });
    // Refused before the step-up code is spent on a send that could not happen.
    await this.dispatcher.checkLimits({ userId, e164: phone.e164, confirmed: false, purposeKey });
    await this.setup.start(caller, actor, code, { method: 'SMS', secret: phone.e164, lookupHash, display: phone.masked });
    // Sent after the setup committed; a failed send leaves a setup that can be started again.
    // The code is bound to this number: a code sent to an earlier pending number never confirms this one.
    const sent = await this.dispatcher.send({
      userId,
      e164: phone.e164,
      masked: phone.masked,
      destination: lookupHash,
      confirmed: false,
      purposeKey,
    });
    await this.recordSent(actor, userId, 'setup');
    return sent;
  }

  /** Confirms with the code sent to the new number (that code alone). */
  confirmSetup(caller: Caller, actor: Actor, code: string): Promise<TwoFactorSetupResult> {
    return this.setup.confirm(
      caller,
      actor,
      code,
      'SMS',
      (_phone, pending) => ({
        method: TwoFactorMethod.SMS,
        accepts: isSixDigits,
        verify: (_manager, userId, given) => this.codes.consume(smsPurposeKey({ kind: 'setup', userId }), given, pending.lookupHash!),
      }),
      (manager, pending, now) =>
        this.factors.saveSms(manager, {
          userId: pending.userId,
          phoneCiphertext: pending.payloadCiphertext,
          phoneHash: pending.lookupHash!,
          phoneMasked: pending.display!,
          createdAt: now,
          lastUsedAt: now,
        }),
    );
  }

  /** A fresh step-up code to the user's confirmed number. */
  async sendStepUpCode(caller: Caller, actor: Actor): Promise<SentCode> {
    const userId = caller.subject;
    return this.sendToConfirmedNumber(actor, userId, smsPurposeKey({ kind: 'step-up', userId }), 'step-up');
  }

  /** A code bound to one login challenge, to the challenge user's confirmed number. */
  async sendLoginCode(actor: Actor, userId: string, challengeId: string): Promise<SentCode> {
    return this.sendToConfirmedNumber(actor, userId, smsPurposeKey({ kind: 'login', userId, challengeId }), 'login');
  }

  private async sendToConfirmedNumber(actor: Actor, userId: string, purposeKey: string, reason: string): Promise<SentCode> {
    const factor = await this.database.run((manager) => this.factors.findSms(manager, userId));
    if (!factor) throw new AppError('NOT_ENROLLED', 'No confirmed phone number to send a code to.');
    // SMS_ALLOWED_COUNTRIES may have narrowed since the number was confirmed.
    const phone = parsePhoneNumber(this.secrets.decrypt(factor.phoneCiphertext), this.allowedCountries);
    const sent = await this.dispatcher.send({ userId, e164: phone.e164, masked: factor.phoneMasked, destination: factor.phoneHash, confirmed: true, purposeKey });
    await this.recordSent(actor, userId, reason);
    return sent;
  }

  private async recordSent(actor: Actor, userId: string, reason: string): Promise<void> {
    await this.database.transaction((manager) => this.audit.record(manager, actor, { action: 'SMS_SENT', userId, reason }, this.clock.now()));
  }
}

