import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Store } from '../../infra/store/store';
import { LIMITS } from '../../limits';

/**
 * Live SMS codes, one per purpose (`setup:<user>`, `step-up:<user>`,
 * `login:<challenge>`): kept only as a keyed hash bound to the purpose, valid 10
 * minutes, at most 5 checks, spent by the first right one. A new code replaces
 * the old. Keys name the purpose by keyed hash (a login's names its challenge,
 * a credential), which both keys of a purpose share as hash tag (one Cluster
 * slot); the number a code went to is kept only as a keyed hash bound to the
 * purpose, so codes to one number cannot be linked across users.
 */
export class SmsCodeStore {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly keyHash: StoreKeyHash,
    private readonly clock: Clock,
  ) {}

  /** `destination`: the keyed hash of the number it went to; the code answers only for that number. */
  async put(purposeKey: string, code: string, destination: string, expiresAt: Date): Promise<void> {
    const keys = this.storeKeys(purposeKey);
    const ttlMs = Math.max(1, expiresAt.getTime() - this.clock.now().getTime());
    await this.store.delete(keys.checks);
    const value = {
      hash: this.hash(purposeKey, code),
      to: this.destination(purposeKey, destination),
      expiresAt: expiresAt.getTime(),
    };
    await this.store.set(keys.code, JSON.stringify(value), ttlMs);
  }

  /**
   * Checks the code for this purpose, sent to `destination` (the number that
   * must have received it: the pending one, or the confirmed one); true once,
   * for the first right answer.
   */
  async consume(purposeKey: string, code: string, destination: string): Promise<boolean> {
    const keys = this.storeKeys(purposeKey);
    // Counted before it is compared, so parallel guesses cannot exceed the checks allowed.
    const checks = await this.store.increment(keys.checks, LIMITS.smsCodeTtlSeconds * 1000);
    const stored = await this.store.get(keys.code);
    if (!stored) return false;
    const { hash, to, expiresAt } = JSON.parse(stored) as { hash: string; to: string; expiresAt: number };
    const exhausted = checks >= LIMITS.smsCodeMaxChecks;
    if (to !== this.destination(purposeKey, destination)) return false;
    if (checks > LIMITS.smsCodeMaxChecks || expiresAt <= this.clock.now().getTime()) {
      await this.store.delete(keys.code);
      return false;
    }
    const right = timingSafeEqual(Buffer.from(hash), Buffer.from(this.hash(purposeKey, code)));
    if (!right) {
      if (exhausted) await this.store.delete(keys.code);
      return false;
    }
    // Of two right answers racing, only the one that deletes the code wins.
    return this.store.delete(keys.code);
  }

  private hash(purposeKey: string, code: string): string {
    return this.secrets.hash(`sms-code\u0000${purposeKey}\u0000${code}`);
  }

  private destination(purposeKey: string, destination: string): string {
    return this.keyHash.of('sms-destination', purposeKey, destination);
  }

  private storeKeys(purposeKey: string) {
    const tag = this.keyHash.of('sms-code', purposeKey);
    return { code: `sms-code:{${tag}}`, checks: `sms-checks:{${tag}}` };
  }
}
