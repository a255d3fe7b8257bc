import { LIMITS } from '../limits';
import type { Caller } from './caller';

/**
 * Verified tokens, remembered until the earlier of their expiry and a minute,
 * so a caller's every request does not pay for signature checks again. Keyed by
 * the whole token; bounded, oldest entries go first.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly maxEntries: number = LIMITS.verifiedTokenCacheEntries,
    private readonly maxAgeMs: number = LIMITS.verifiedTokenCacheSeconds * 1000,
  ) {}

  get(token: string, now = Date.now()): Caller | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.caller;
  }

  set(token: string, caller: Caller, expiresAtMs: number | undefined, now = Date.now()): void {
    const until = Math.min(expiresAtMs ?? now + this.maxAgeMs, now + this.maxAgeMs);
    if (until <= now) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, { caller, until });
  }
}
