import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import { randomDigits } from '../../infra/crypto/random';
import { SmsDeliveryError, type SmsSender } from '../../infra/sms-sender/sms-sender';
import { LIMITS } from '../../limits';
import type { SmsCodeStore } from './sms-code-store';
import type { SendRequest, SmsSendLimits } from './sms-send-limits';
import type { SmsSendMetrics } from './sms-send-metrics';
import type { SmsTexts } from './sms-texts';

export interface SentCode {
  phoneNumberMasked: string;
  codeExpiresAt: Date;
  resendAvailableAt: Date;
}

/**
 * Sends a fresh code for one purpose: within the limits, through the sender,
 * in the user's language, and only once the provider accepted it does the code
 * become the live one. A failed publish costs no quota and leaves no new live
 * code. Every send attempt is counted in `sms_sends_total` by its outcome.
 */
export class SmsDispatcher {
  constructor(
    private readonly limits: SmsSendLimits,
    private readonly codes: SmsCodeStore,
    private readonly sender: SmsSender,
    private readonly clock: Clock,
    private readonly texts: SmsTexts,
    private readonly metrics: SmsSendMetrics,
  ) {}

  /** RATE_LIMITED or SMS_NOT_ALLOWED already if a send would be refused, counting nothing. */
  async checkLimits(request: SendRequest): Promise<void> {
    try {
      await this.limits.check(request);
    } catch (error) {
      this.metrics.countRefusal(request.country, error);
      throw error;
    }
  }

  /** `destination`: the number's stored keyed hash, which the code is bound to; `locale`: the user's SMS language. */
  async send(request: SendRequest & { masked: string; destination: string; locale: string }): Promise<SentCode> {
    let giveBack: () => Promise<void>;
    try {
      giveBack = await this.limits.take(request);
    } catch (error) {
      this.metrics.countRefusal(request.country, error);
      throw error;
    }
    const code = randomDigits(6);
    const now = this.clock.now().getTime();
    const codeExpiresAt = new Date(
      Math.min(now + LIMITS.smsCodeTtlSeconds * 1000, request.notAfter?.getTime() ?? Infinity),
    );
    const minutes = Math.max(1, Math.floor((codeExpiresAt.getTime() - now) / 60_000));
    try {
      await this.sender.send(request.e164, this.texts.render(request.locale, code, minutes), request.masked);
    } catch (error) {
      await giveBack();
      if (error instanceof SmsDeliveryError) {
        this.metrics.count(request.country, 'failed');
        throw new AppError('SMS_DELIVERY_FAILED', 'The SMS could not be sent; try again shortly.');
      }
      throw error;
    }
    this.metrics.count(request.country, 'sent');
    await this.codes.put(request.purposeKey, code, request.destination, codeExpiresAt);
    return {
      phoneNumberMasked: request.masked,
      codeExpiresAt,
      resendAvailableAt: new Date(now + LIMITS.smsResendIntervalSeconds * 1000),
    };
  }
}
