import type { CountryDailyCaps } from '../../config/config';
import { AppError } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { Limiter, Store } from '../../infra/store/store';

/** Why a destination country is refused (`extensions.reason` of SMS_NOT_ALLOWED). */
export type SmsCountryRefusal = 'COUNTRY_NOT_ALLOWED' | 'COUNTRY_DAILY_CAP';

export function smsNotAllowed(country: string, reason: SmsCountryRefusal): AppError {
  const why =
    reason === 'COUNTRY_NOT_ALLOWED'
      ? 'the country is not allowed'
      : "today's daily cap for the country is reached (it opens again at 00:00 UTC)";
  return new AppError('SMS_NOT_ALLOWED', `SMS cannot be sent to numbers in ${country}: ${why}.`, { country, reason });
}

/** A day's counter of one country's sends: [limiter, key, cap]. */
export type CountryCounter = [Limiter, string, number];

/**
 * Where SMS may go (SMS_ALLOWED_COUNTRIES) and how many a UTC day each country
 * gets (SMS_COUNTRY_DAILY_CAPS; `*` gives each country not listed its own cap),
 * against SMS pumping, which is billed per destination country. The day's
 * counter lives in the store, shared by every instance; its key names the
 * country and the UTC date (the service's clock), so a new day starts at 0.
 */
export class SmsCountryRules {
  private readonly limiters = new Map<string, Limiter>();

  constructor(
    store: Store,
    private readonly allowed: string[] | null,
    private readonly caps: CountryDailyCaps | null,
    private readonly clock: Clock,
  ) {
    const rules: [string, number][] = Object.entries(caps?.byCountry ?? {});
    if (caps?.otherwise != null) rules.push(['*', caps.otherwise]);
    // The window outlives the UTC day its key names; the next day's key is another.
    for (const [rule, points] of rules)
      this.limiters.set(rule, store.limiter({ name: 'sms-country-day', points, durationSeconds: 86_400 }));
  }

  /** SMS_NOT_ALLOWED unless SMS_ALLOWED_COUNTRIES (when set) lists the country. */
  assertAllowed(country: string): void {
    if (this.allowed && !this.allowed.includes(country)) throw smsNotAllowed(country, 'COUNTRY_NOT_ALLOWED');
  }

  /** The counter of the country's cap today, or null when it has none. */
  counterOf(country: string): CountryCounter | null {
    const rule = this.caps?.byCountry[country] !== undefined ? country : '*';
    const limiter = this.limiters.get(rule);
    if (!limiter) return null;
    const day = this.clock.now().toISOString().slice(0, 10);
    return [limiter, `${country}:${day}`, rule === '*' ? this.caps!.otherwise! : this.caps!.byCountry[country]];
  }
}
