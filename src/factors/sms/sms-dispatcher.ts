import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import { randomDigits } from '../../infra/crypto/random';
import { SmsDeliveryError, type SmsSender } from '../../infra/sms-sender/sms-sender';
import type { SmsCodeStore } from './sms-code-store';
import { RESEND_INTERVAL_SECONDS, type SendRequest, type SmsSendLimits } from './sms-send-limits';

export interface SentCode {
  phoneNumberMasked: string;
  codeExpiresAt: Date;
  resendAvailableAt: Date;
}

/**
 * Sends a fresh code for one purpose: within the limits, through the sender,
 * and only once the provider accepted it does the code become the live one.
 * A failed publish costs no quota and leaves no new live code.
 */
export class SmsDispatcher {
  constructor(
    private readonly limits: SmsSendLimits,
    private readonly codes: SmsCodeStore,
    private readonly sender: SmsSender,
    private readonly clock: Clock,
    private readonly brand: string,
  ) {}

  /** RATE_LIMITED already if a send would be refused, counting nothing. */
  checkLimits(request: SendRequest): Promise<void> {
    return this.limits.check(request);
  }

  /** `destination`: the number's stored keyed hash, which the code is bound to. */
  async send(request: SendRequest & { masked: string; destination: string }): Promise<SentCode> {
    const giveBack = await this.limits.take(request);
    const code = randomDigits(6);
    try {
      await this.sender.send(request.e164, this.message(code), request.masked);
    } catch (error) {
      await giveBack();
      if (error instanceof SmsDeliveryError) throw new AppError('SMS_DELIVERY_FAILED', 'The SMS could not be sent; try again shortly.');
      throw error;
    }
    const codeExpiresAt = await this.codes.put(request.purposeKey, code, request.destination);
    const now = this.clock.now().getTime();
    return { phoneNumberMasked: request.masked, codeExpiresAt, resendAvailableAt: new Date(now + RESEND_INTERVAL_SECONDS * 1000) };
  }

  /** The code is the only 6-digit number in the message (digits are kept out of the brand). */
  private message(code: string): string {
    const brand = this.brand.replace(/[0-9]/g, '').trim() || 'Your';
    return `${brand} verification code: ${code}. It expires in 10 minutes. Do not share it.`;
  }
}
