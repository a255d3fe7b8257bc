/** Sends a text message. SNS in production; the log in the embedded default. */
export interface SmsSender {
  /** Resolves once the provider accepted the message; throws SmsDeliveryError otherwise. */
  send(phoneNumberE164: string, message: string, maskedNumber: string): Promise<void>;
  /** Releases connections (at shutdown). */
  close(): void;
}

export class SmsDeliveryError extends Error {
  constructor(readonly reason: string) {
    super(`SMS delivery failed: ${reason}`);
    this.name = 'SmsDeliveryError';
  }
}
