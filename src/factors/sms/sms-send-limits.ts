import { type AppError, rateLimited } from '../../errors';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Logger } from '../../infra/logger';
import type { Limiter, LimiterResult, Store } from '../../infra/store/store';
import { LIMITS } from '../../limits';
import { smsNotAllowed, type SmsCountryRules } from './sms-country-rules';

const SERVICE = 'service';

/** A limiter, the key a send counts under, its limit, and the error a send past it gets. */
type Counter = [Limiter, string, number, (retryAfterSeconds: number) => AppError];

export interface SendRequest {
  userId: string;
  e164: string;
  /** The number's ISO 3166 country (libphonenumber's). */
  country: string;
  purposeKey: string;
  /** Whether the number is the user's confirmed one: counted apart from numbers being set up. */
  confirmed: boolean;
  /** The code dies no later than this (a login code with its challenge). */
  notAfter?: Date;
}

export interface SmsBudgets {
  /** Messages a day for the whole service. */
  daily: number;
  /** Of those, what sends to numbers not yet confirmed may use. */
  setupDaily: number;
}

/**
 * Limits against SMS pumping, as the contract sets them: to one number for one
 * purpose 1 per 30 s; per user and per number 5 an hour and 10 a day, counted
 * apart for confirmed numbers and numbers being set up (so "setting up" a
 * victim's number cannot use up the victim's login SMS); a daily budget for the
 * whole service, of which setups may use only their own smaller part (so
 * throwaway setups cannot starve login and step-up codes); the destination
 * country allowed and within its cap for the UTC day (SMS_NOT_ALLOWED). A send
 * that is refused or fails counts nowhere. Keys name numbers, users and
 * purposes by keyed hash only, each on its own: no key ties a number to a user.
 */
export class SmsSendLimits {
  private readonly resend: Limiter;
  private readonly hourly: Limiter;
  private readonly daily: Limiter;
  private readonly budget: Limiter;
  private readonly setupBudget: Limiter;

  constructor(
    store: Store,
    private readonly budgets: SmsBudgets,
    private readonly keyHash: StoreKeyHash,
    private readonly logger: Logger,
    private readonly countries: SmsCountryRules,
  ) {
    this.resend = store.limiter({ name: 'sms-resend', points: 1, durationSeconds: LIMITS.smsResendIntervalSeconds });
    this.hourly = store.limiter({
      name: 'sms-hour',
      points: LIMITS.smsPerUserAndNumberPerHour,
      durationSeconds: 3_600,
    });
    this.daily = store.limiter({ name: 'sms-day', points: LIMITS.smsPerUserAndNumberPerDay, durationSeconds: 86_400 });
    this.budget = store.limiter({ name: 'sms-budget', points: budgets.daily, durationSeconds: 86_400 });
    this.setupBudget = store.limiter({ name: 'sms-setup-budget', points: budgets.setupDaily, durationSeconds: 86_400 });
  }

  /** What today's budgets have used, for /metrics (shared by every instance). */
  async used(): Promise<{ daily: number; setupDaily: number }> {
    const [daily, setupDaily] = await Promise.all([this.budget.peek(SERVICE), this.setupBudget.peek(SERVICE)]);
    // A refused send counts for a moment before it is given back.
    return {
      daily: Math.min(daily.consumed, this.budgets.daily),
      setupDaily: Math.min(setupDaily.consumed, this.budgets.setupDaily),
    };
  }

  /**
   * RATE_LIMITED or SMS_NOT_ALLOWED now if a send would be refused, counting
   * nothing: lets a setup refuse before it spends the caller's step-up code.
   * `take` still decides.
   */
  async check(request: SendRequest): Promise<void> {
    this.countries.assertAllowed(request.country);
    for (const [limiter, key, points, refusal] of this.counters(request)) {
      const state = await limiter.peek(key);
      if (state.consumed >= points) throw refusal(state.retryAfterSeconds);
    }
  }

  /**
   * Counts the send everywhere, or counts nothing and throws RATE_LIMITED or
   * SMS_NOT_ALLOWED. Returns how to take it back. Each count is one atomic step
   * of the store, so parallel sends on any instance never pass a limit: those
   * past it are refused and give back what they took.
   */
  async take(request: SendRequest): Promise<() => Promise<void>> {
    this.countries.assertAllowed(request.country);
    const counters = this.counters(request);
    const taken: [Limiter, string][] = [];
    const giveBack = async () => {
      const results = await Promise.allSettled(taken.map(([limiter, key]) => limiter.refund(key)));
      const failed = results.filter((result) => result.status === 'rejected');
      // Swallowed: the caller answers its own error (the publish failed, or a limit refused), and a count
      // not given back only makes the limits stricter until its window ends (they fail closed).
      if (failed.length > 0) {
        this.logger.warn(
          { err: failed[0].reason, counts: failed.length },
          'could not give back an SMS send count: the store failed; it stays counted until its window ends',
        );
      }
    };
    for (const [limiter, key, , refusal] of counters) {
      let result: LimiterResult;
      try {
        result = await limiter.consume(key);
      } catch (error) {
        await giveBack();
        throw error;
      }
      taken.push([limiter, key]);
      if (!result.allowed) {
        await giveBack();
        throw refusal(result.retryAfterSeconds);
      }
    }
    return giveBack;
  }

  /** Each counter a send takes, with the error its refusal is: the caller's limits first, the country's cap last. */
  private counters(request: SendRequest): Counter[] {
    const number = this.keyHash.of('sms-number', request.e164);
    const user = this.keyHash.of('sms-user', request.userId);
    const kind = request.confirmed ? 'confirmed' : 'unconfirmed';
    const counters: Counter[] = [
      [this.resend, this.keyHash.of('sms-resend', request.e164, request.purposeKey), 1, rateLimited],
      [this.hourly, `${kind}:user:${user}`, LIMITS.smsPerUserAndNumberPerHour, rateLimited],
      [this.hourly, `${kind}:number:${number}`, LIMITS.smsPerUserAndNumberPerHour, rateLimited],
      [this.daily, `${kind}:user:${user}`, LIMITS.smsPerUserAndNumberPerDay, rateLimited],
      [this.daily, `${kind}:number:${number}`, LIMITS.smsPerUserAndNumberPerDay, rateLimited],
      [this.budget, SERVICE, this.budgets.daily, rateLimited],
    ];
    // A setup needs room in both; a login or step-up code only in the total, of which setups take at most their part.
    if (!request.confirmed) counters.push([this.setupBudget, SERVICE, this.budgets.setupDaily, rateLimited]);
    const country = this.countries.counterOf(request.country);
    if (country) counters.push([...country, () => smsNotAllowed(request.country, 'COUNTRY_DAILY_CAP')]);
    return counters;
  }
}
