import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '../logger';
import { SmsDeliveryError, type SmsSender } from './sms-sender';

export interface SnsOptions {
  region: string;
  endpoint?: string;
  senderId?: string;
}

/**
 * AWS SNS Publish to a phone number, as a transactional SMS. Retries and
 * timeouts are bounded so a request never hangs on the provider.
 * Credentials come from the AWS SDK's default chain.
 */
export class SnsSmsSender implements SmsSender {
  private readonly client: SNSClient;

  constructor(
    private readonly options: SnsOptions,
    private readonly logger: Logger,
  ) {
    this.client = new SNSClient({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
    });
  }

  close(): void {
    this.client.destroy();
  }

  async send(phoneNumberE164: string, message: string, maskedNumber: string): Promise<void> {
    const attributes: NonNullable<ConstructorParameters<typeof PublishCommand>[0]['MessageAttributes']> = {
      'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
    };
    if (this.options.senderId)
      attributes['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: this.options.senderId };
    const abort = AbortSignal.timeout(8_000);
    try {
      const result = await this.client.send(
        new PublishCommand({ PhoneNumber: phoneNumberE164, Message: message, MessageAttributes: attributes }),
        {
          abortSignal: abort,
        },
      );
      this.logger.info({ to: maskedNumber, messageId: result.MessageId }, 'SMS published');
    } catch (error) {
      const reason = (error as { name?: string }).name ?? 'unknown';
      this.logger.warn({ to: maskedNumber, reason }, 'SMS publish failed');
      throw new SmsDeliveryError(reason);
    }
  }
}
