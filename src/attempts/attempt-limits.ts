import ipaddr from 'ipaddr.js';
import type { Config } from '../config/config';
import { type AppError, challengeNotFound, rateLimited } from '../errors';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { AdmissionRequest, Store } from '../infra/store/store';
import { LIMITS } from '../limits';
import type { LockedUser } from '../users/user.repository';

/** Where a login challenge and its tries live in the store (ChallengeStore.admission). */
export type ChallengeAdmission = NonNullable<AdmissionRequest['challenge']>;

/** What the store said of an answer before the database is asked. */
export interface Admission {
  /** The login challenge's stored value; null when none was asked for, or it does not exist. */
  challengeValue: string | null;
  /**
   * The store's refusal (RATE_LIMITED: the client IP's window is full;
   * CHALLENGE_NOT_FOUND: the challenge has had its tries), answered only after
   * what comes first in the contract's precedence (TWO_FACTOR_LOCKED).
   */
  refusal: AppError | null;
  /** Gives the challenge's try back: for an attempt refused before it was checked. */
  giveBack(): Promise<void>;
}

/** The user's window of failures as the answer path reads it, under the user's row lock. */
export interface FailureWindow {
  /** The window is full: every answer is RATE_LIMITED, not checked, not counted. */
  refusal: AppError | null;
  /** What the window becomes with one more failure. */
  afterFailure: { failuresInWindow: number; failureWindowStartedAt: Date };
}

/**
 * The attempt limits every answer passes (docs/adr/0013-answers-planned-then-sent.md):
 * - per client IP (ipQuotaKey), every attempt (100 a minute by default), and a login
 *   challenge's 5 tries: counted in the store, in one round trip, before the
 *   database is asked;
 * - per user, failures in a fixed window (10 in 15 minutes by default): kept on
 *   the user's row and counted under its lock in the answer's own transaction,
 *   so parallel guesses for one user queue behind each other and none gets past
 *   the limit.
 * A store that cannot answer refuses the attempt (SERVICE_UNAVAILABLE). Store
 * keys name IPs and challenges by keyed hash only.
 */
export class AttemptLimits {
  constructor(
    private readonly store: Store,
    private readonly limits: Config['limits'],
    private readonly keyHash: StoreKeyHash,
  ) {}

  /** Counts the attempt against the client IP and, for a login, the challenge's tries. */
  async admit(clientIp: string | null, challenge?: ChallengeAdmission): Promise<Admission> {
    const result = await this.store.admitAnswer({
      ip: clientIp
        ? {
            key: this.ipKey(clientIp),
            limit: this.limits.ipAttemptsPerMinute,
            windowMs: LIMITS.ipAttemptWindowSeconds * 1000,
          }
        : undefined,
      challenge,
    });
    const refusal =
      result.ipRetryAfterMs !== null
        ? rateLimited(Math.max(1, Math.ceil(result.ipRetryAfterMs / 1000)))
        : result.challengeExhausted
          ? challengeNotFound()
          : null;
    const counted = challenge !== undefined && result.challengeValue !== null && result.ipRetryAfterMs === null;
    return {
      challengeValue: result.challengeValue,
      refusal,
      giveBack: async () => {
        if (counted) await this.store.decrement(challenge.triesKey);
      },
    };
  }

  /** The store key of a client IP's attempts in the current window (its value: how many were counted). */
  ipKey(clientIp: string): string {
    return `ip-attempts:{${this.keyHash.of('ip-attempts', ipQuotaKey(clientIp))}}`;
  }

  /** The user's failure window at `now`, from the locked row (a user without a row has none yet). */
  failureWindow(user: LockedUser | null, now: Date): FailureWindow {
    const windowMs = this.limits.userFailureWindowSeconds * 1000;
    const startedAt = user?.failureWindowStartedAt ?? null;
    const open = startedAt !== null && startedAt.getTime() + windowMs > now.getTime();
    const failures = open ? user!.failuresInWindow : 0;
    return {
      refusal:
        failures >= this.limits.userFailuresPerWindow
          ? rateLimited(Math.max(1, Math.ceil((startedAt!.getTime() + windowMs - now.getTime()) / 1000)))
          : null,
      afterFailure: open
        ? { failuresInWindow: failures + 1, failureWindowStartedAt: startedAt }
        : { failuresInWindow: 1, failureWindowStartedAt: now },
    };
  }
}

/**
 * Who the per-IP quota counts: an IPv4 address; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) as its IPv4 address; any other IPv6 address as its /64, since
 * one host is given a whole /64 and would otherwise hold 2^64 quotas. Spellings
 * (case, leading zeros, `::`, a zone, brackets) make no difference; ipaddr.js
 * also reads the deprecated `::a.b.c.d` as mapped (one quota fewer, never one
 * more). Text that is no address (a proxy's `unknown`) counts as itself.
 */
export function ipQuotaKey(clientIp: string): string {
  const text = clientIp.trim().replace(/^\[(.*)\]$/, '$1');
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    address = ipaddr.process(text); // IPv4-mapped IPv6 becomes the IPv4 address
  } catch {
    return `text:${clientIp}`;
  }
  if (address instanceof ipaddr.IPv4) return address.toString();
  const network = new ipaddr.IPv6([...address.parts.slice(0, 4), 0, 0, 0, 0]);
  return `${network.toRFC5952String()}/64`;
}
