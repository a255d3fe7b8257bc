import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import { randomDigits } from '../../infra/crypto/random';
import { SmsDeliveryError, type SmsSender } from '../../infra/sms-sender/sms-sender';
import { describeSeconds, LIMITS } from '../../limits';
import type { SmsCodeStore } from './sms-code-store';
import type { SendRequest, SmsSendLimits } from './sms-send-limits';

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
    const now = this.clock.now().getTime();
    const codeExpiresAt = new Date(
      Math.min(now + LIMITS.smsCodeTtlSeconds * 1000, request.notAfter?.getTime() ?? Infinity),
    );
    try {
      await this.sender.send(request.e164, this.message(code, codeExpiresAt.getTime() - now), request.masked);
    } catch (error) {
      await giveBack();
      if (error instanceof SmsDeliveryError)
        throw new AppError('SMS_DELIVERY_FAILED', 'The SMS could not be sent; try again shortly.');
      throw error;
    }
    await this.codes.put(request.purposeKey, code, request.destination, codeExpiresAt);
    return {
      phoneNumberMasked: request.masked,
      codeExpiresAt,
      resendAvailableAt: new Date(now + LIMITS.smsResendIntervalSeconds * 1000),
    };
  }

  /** The code is the only 6-digit number in the message (digits are kept out of the brand; the lifetime is in words). */
  private message(code: string, lifetimeMs: number): string {
    const brand = this.brand.replace(/[0-9]/g, '').trim() || 'Your';
    const minutes = Math.max(1, Math.floor(lifetimeMs / 60_000));
    return `${brand} verification code: ${code}. It expires in ${describeSeconds(minutes * 60)}. Do not share it.`;
  }
}
