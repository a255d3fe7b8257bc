import { Counter, type Registry } from 'prom-client';
import { AppError } from '../../errors';

/** What became of a send: published, the publish failed, or refused (and why). A closed set. */
export type SmsSendOutcome = 'sent' | 'failed' | 'rate_limited' | 'refused_country' | 'refused_cap';

/**
 * `sms_sends_total{country,outcome}`, counted by the instance that tried. Both
 * labels are closed sets: `country` is the ISO 3166 code libphonenumber gave
 * the parsed number (never what the caller typed; unparsable numbers are not
 * sends), `outcome` one of SmsSendOutcome.
 */
export class SmsSendMetrics {
  private readonly sends: Counter<'country' | 'outcome'>;

  constructor(registry: Registry) {
    this.sends = new Counter({
      name: 'sms_sends_total',
      help: 'SMS sends by destination country (ISO 3166) and outcome: sent, failed (the publish), rate_limited, refused_country, refused_cap.',
      labelNames: ['country', 'outcome'] as const,
      registers: [registry],
    });
  }

  count(country: string, outcome: SmsSendOutcome): void {
    this.sends.inc({ country, outcome });
  }

  /** A refusal of the limits, counted under its outcome; other errors (the store down) are no send outcome. */
  countRefusal(country: string, error: unknown): void {
    if (!(error instanceof AppError)) return;
    if (error.code === 'RATE_LIMITED') this.count(country, 'rate_limited');
    if (error.code === 'SMS_NOT_ALLOWED')
      this.count(country, error.extensions.reason === 'COUNTRY_NOT_ALLOWED' ? 'refused_country' : 'refused_cap');
  }
}
