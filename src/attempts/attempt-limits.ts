import ipaddr from 'ipaddr.js';
import type { Config } from '../config/config';
import { rateLimited } from '../errors';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { Limiter, Store } from '../infra/store/store';

/**
 * The attempt counters that every code check passes through, shared by every
 * instance through the store:
 * - per user, failures in a fixed window (10 in 15 minutes by default): an
 *   attempt is counted before its code is checked and given back if it succeeds,
 *   so parallel guesses get no more than the limit;
 * - per client IP, every attempt (100 a minute by default), keyed by ipQuotaKey.
 * A store that cannot answer refuses the attempt (SERVICE_UNAVAILABLE). Keys
 * name users and IPs by keyed hash only.
 */
export class AttemptLimits {
  private readonly userFailures: Limiter;
  private readonly ipAttempts: Limiter;

  constructor(
    store: Store,
    limits: Config['limits'],
    private readonly keyHash: StoreKeyHash,
  ) {
    this.userFailures = store.limiter({
      name: 'user-failures',
      points: limits.userFailuresPerWindow,
      durationSeconds: limits.userFailureWindowSeconds,
    });
    this.ipAttempts = store.limiter({ name: 'ip-attempts', points: limits.ipAttemptsPerMinute, durationSeconds: 60 });
  }

  /** Counts the attempt; RATE_LIMITED (with retryAfterSeconds) when a limit is already reached. */
  async admit(userId: string, clientIp: string | null): Promise<void> {
    await this.admitIp(clientIp);
    const user = await this.userFailures.consume(this.user(userId));
    if (!user.allowed) throw rateLimited(user.retryAfterSeconds);
  }

  /** Counts an attempt that names no user (e.g. an unknown login challenge) against its IP. */
  async admitIp(clientIp: string | null): Promise<void> {
    if (!clientIp) return;
    const ip = await this.ipAttempts.consume(this.keyHash.of('ip-attempts', ipQuotaKey(clientIp)));
    if (!ip.allowed) throw rateLimited(ip.retryAfterSeconds);
  }

  /** The attempt succeeded: it was no failure. */
  async forgive(userId: string): Promise<void> {
    await this.userFailures.refund(this.user(userId));
  }

  /** An admin's reset clears the user's window too. */
  async reset(userId: string): Promise<void> {
    await this.userFailures.reset(this.user(userId));
  }

  private user(userId: string): string {
    return this.keyHash.of('user-failures', userId);
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
