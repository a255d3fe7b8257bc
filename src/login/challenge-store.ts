import { AppError } from '../errors';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import { randomId } from '../infra/crypto/random';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { Store } from '../infra/store/store';
import { LIMITS } from '../limits';

const CHALLENGE_TTL_MS = LIMITS.challengeTtlSeconds * 1000;

export interface Challenge {
  id: string;
  userId: string;
  expiresAt: Date;
}

/**
 * Pending login challenges: an unguessable id (144 random bits) bound to one
 * user, living 5 minutes, allowing 5 attempts, spent by the first success.
 * The id is a credential, so keys hold only its keyed hash, which both keys of
 * a challenge share as hash tag (one Cluster slot). The value names the user,
 * so it is encrypted (AES-256-GCM under ENCRYPTION_KEY): a reader of the store
 * learns no user id.
 */
export class ChallengeStore {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly keyHash: StoreKeyHash,
    private readonly clock: Clock,
  ) {}

  async open(userId: string): Promise<Challenge> {
    const challenge = { id: randomId(), userId, expiresAt: new Date(this.clock.now().getTime() + CHALLENGE_TTL_MS) };
    const value = JSON.stringify({ userId, expiresAt: challenge.expiresAt.getTime() });
    await this.store.set(this.key(challenge.id), this.secrets.encrypt(value), CHALLENGE_TTL_MS);
    return challenge;
  }

  /** The live challenge, or null when unknown, expired or spent. */
  async find(id: string): Promise<Challenge | null> {
    if (!/^[A-Za-z0-9_-]{24}$/.test(id)) return null;
    const stored = await this.store.get(this.key(id));
    if (!stored) return null;
    // A value written in clear before values were encrypted (a challenge lives 5 minutes) is still read.
    const value = stored.startsWith('{') ? stored : this.secrets.decrypt(stored);
    const { userId, expiresAt } = JSON.parse(value) as { userId: string; expiresAt: number };
    if (expiresAt <= this.clock.now().getTime()) return null;
    return { id, userId, expiresAt: new Date(expiresAt) };
  }

  /**
   * Counts an attempt; false once the challenge has had its 5. The challenge
   * itself stays until it expires, so an admitted attempt still in flight can
   * spend it if its code was right.
   */
  async countAttempt(id: string): Promise<boolean> {
    return (await this.store.increment(this.attemptsKey(id), CHALLENGE_TTL_MS)) <= LIMITS.challengeMaxAttempts;
  }

  /** Whether the challenge has had its 5 attempts (then nothing can answer it, so nothing is sent for it). */
  async isExhausted(id: string): Promise<boolean> {
    return Number((await this.store.get(this.attemptsKey(id))) ?? 0) >= LIMITS.challengeMaxAttempts;
  }

  /** Spends the challenge; true only for the one caller that did. */
  spend(id: string): Promise<boolean> {
    return this.store.delete(this.key(id));
  }

  private key(id: string): string {
    return `challenge:{${this.keyHash.of('challenge', id)}}`;
  }

  private attemptsKey(id: string): string {
    return `challenge-attempts:{${this.keyHash.of('challenge', id)}}`;
  }
}

export const challengeNotFound = () =>
  new AppError(
    'CHALLENGE_NOT_FOUND',
    'The login challenge is unknown, expired, spent or exhausted: start the login again.',
  );
