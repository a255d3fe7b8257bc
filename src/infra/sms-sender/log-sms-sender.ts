import type { Logger } from '../logger';
import type { SmsSender } from './sms-sender';

/**
 * The embedded default: the message goes to the log instead of a phone. The one
 * place a code is ever logged; production refuses to start with it.
 */
export class LogSmsSender implements SmsSender {
  constructor(private readonly logger: Logger) {}

  close(): void {}

  async send(_phoneNumberE164: string, message: string, maskedNumber: string): Promise<void> {
    // The text in the message itself, so it stands out among the request lines.
    this.logger.info({ to: maskedNumber, sms: message }, `SMS (log provider, not sent) to ${maskedNumber}: ${message}`);
  }
}
