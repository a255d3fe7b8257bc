import type { Answer } from '../../attempts/second-factor';
import type { AuditLog } from '../../audit/audit-log';
import type { Actor, Caller } from '../../callers/caller';
import { AppError, challengeNotFound } from '../../errors';
import type { Clock } from '../../infra/clock';
import { CiphertextRefused, type SecretBox } from '../../infra/crypto/cipher';
import type { Database } from '../../infra/db/database';
import { TwoFactorMethod } from '../../users/two-factor-method';
import type { FactorSetup } from '../factor-setup';
import type { TwoFactorSetupResult } from '../two-factor.types';
import { parsePhoneNumber } from './phone-number';
import type { SmsCodeStore } from './sms-code-store';
import type { SentCode, SmsDispatcher } from './sms-dispatcher';
import { smsPhoneBinding } from './sms-factor.entity';
import type { SmsFactorRepository } from './sms-factor.repository';
import { DEFAULT_SMS_LOCALE } from './sms-messages';
import { smsLocaleOf } from './sms-texts';
import { type SmsFactor, smsPurposeKey } from './sms.factor';

/** Setting up, confirming and sending codes to an SMS-enabled phone number (removing it: TwoFactorService). */
export interface SmsServiceDependencies {
  setup: FactorSetup;
  database: Database;
  numbers: SmsFactorRepository;
  factor: SmsFactor;
  codes: SmsCodeStore;
  dispatcher: SmsDispatcher;
  secrets: SecretBox;
  audit: AuditLog;
  clock: Clock;
  /** The login challenge a login code is sent for (the login module's challenges). */
  challenges: LoginChallenges;
}

/** What sending a login code needs of the login's challenges. */
export interface LoginChallenges {
  find(id: string): Promise<LoginChallengeRef | null>;
  isExhausted(challenge: LoginChallengeRef): Promise<boolean>;
}

interface LoginChallengeRef {
  id: string;
  userId: string;
  expiresAt: Date;
}

export class SmsService {
  constructor(private readonly deps: SmsServiceDependencies) {}

  /**
   * Sends a code to the new number, in the language `locale` names (BCP 47;
   * none: English), which the number keeps once confirmed. With two-factor on,
   * a step-up code is needed and the new number replaces the old one only once
   * confirmed.
   */
  async startSetup(
    caller: Caller,
    actor: Actor,
    phoneNumber: string,
    stepUp: Answer,
    locale?: string | null,
  ): Promise<SentCode> {
    const userId = caller.subject;
    const phone = parsePhoneNumber(phoneNumber);
    const smsLocale = smsLocaleOf(locale);
    const lookupHash = this.deps.secrets.hash(phone.e164);
    const purposeKey = smsPurposeKey({ kind: 'setup', userId });
    // Refused before the step-up code is spent on a send that could not happen.
    await this.deps.dispatcher.checkLimits({
      userId,
      e164: phone.e164,
      country: phone.country,
      confirmed: false,
      purposeKey,
    });
    await this.deps.setup.start(caller, actor, stepUp, {
      method: TwoFactorMethod.SMS,
      secret: phone.e164,
      lookupHash,
      display: phone.masked,
      smsLocale,
    });
    // Sent after the setup committed; a failed send leaves a setup that can be started again.
    // The code is bound to this number: a code sent to an earlier pending number never confirms this one.
    const sent = await this.deps.dispatcher.send({
      userId,
      e164: phone.e164,
      country: phone.country,
      masked: phone.masked,
      destination: lookupHash,
      locale: smsLocale,
      confirmed: false,
      purposeKey,
    });
    await this.recordSent(actor, userId, 'setup');
    return sent;
  }

  /** Confirms with the code sent to the new number (that code alone). */
  confirmSetup(caller: Caller, actor: Actor, code: string): Promise<TwoFactorSetupResult> {
    return this.deps.setup.confirm(
      caller,
      actor,
      { code },
      {
        factor: this.deps.factor,
        replaces: true,
        verify: ({ user, answer }, _phone, pending) =>
          this.deps.codes.consume(
            smsPurposeKey({ kind: 'setup', userId: user.id }),
            answer.code ?? '',
            pending.lookupHash!,
          ),
        // Sealed again, to the number's row: the pending setup's ciphertext is bound to the setup.
        bind: (manager, pending, now, phone) =>
          this.deps.numbers.save(manager, {
            userId: pending.userId,
            phoneCiphertext: this.deps.secrets.seal(phone, smsPhoneBinding(pending.userId)),
            phoneHash: pending.lookupHash!,
            phoneMasked: pending.display!,
            smsLocale: pending.smsLocale ?? DEFAULT_SMS_LOCALE,
            createdAt: now,
            lastUsedAt: now,
          }),
      },
    );
  }

  /** A fresh step-up code to the user's confirmed number. */
  async sendStepUpCode(caller: Caller, actor: Actor): Promise<SentCode> {
    const userId = caller.subject;
    return this.sendToConfirmedNumber(actor, userId, smsPurposeKey({ kind: 'step-up', userId }), 'step-up');
  }

  /** No token: the challenge id is the credential. A code bound to that challenge, to its user's confirmed number. */
  async sendLoginCode(actor: Actor, challengeId: string): Promise<SentCode> {
    const challenge = await this.deps.challenges.find(challengeId);
    // Nothing can answer an exhausted challenge, so nothing is sent for it.
    if (!challenge || (await this.deps.challenges.isExhausted(challenge))) throw challengeNotFound();
    const { userId } = challenge;
    const purposeKey = smsPurposeKey({ kind: 'login', userId, challengeId: challenge.id });
    // The code dies with its challenge, and the message says so.
    return this.sendToConfirmedNumber({ ...actor, actorId: userId }, userId, purposeKey, 'login', challenge.expiresAt);
  }

  private async sendToConfirmedNumber(
    actor: Actor,
    userId: string,
    purposeKey: string,
    reason: string,
    notAfter?: Date,
  ): Promise<SentCode> {
    const factor = await this.deps.database.run((manager) => this.deps.numbers.find(manager, userId));
    if (!factor) throw new AppError('NOT_ENROLLED', 'No confirmed phone number to send a code to.');
    // Checked again: the rules for numbers, SMS_ALLOWED_COUNTRIES and the caps may have changed since it was confirmed.
    const phone = parsePhoneNumber(this.phoneOf(userId, factor.phoneCiphertext));
    const sent = await this.deps.dispatcher.send({
      userId,
      e164: phone.e164,
      country: phone.country,
      masked: factor.phoneMasked,
      destination: factor.phoneHash,
      locale: factor.smsLocale,
      confirmed: true,
      purposeKey,
      notAfter,
    });
    await this.recordSent(actor, userId, reason);
    return sent;
  }

  /** A number that does not open for this user (moved, altered, a key missing) gets no SMS; the refusal is audited. */
  private phoneOf(userId: string, ciphertext: string): string {
    try {
      return this.deps.secrets.open(ciphertext, smsPhoneBinding(userId));
    } catch (error) {
      if (!(error instanceof CiphertextRefused)) throw error;
      throw new AppError(
        'SMS_DELIVERY_FAILED',
        'The confirmed phone number cannot be read: use another factor or a recovery code, then set the number up again.',
      );
    }
  }

  private async recordSent(actor: Actor, userId: string, reason: string): Promise<void> {
    await this.deps.database.transaction((manager) =>
      this.deps.audit.record(manager, actor, { action: 'SMS_SENT', userId, reason }, this.deps.clock.now()),
    );
  }
}
