import type { ChallengeAdmission } from '../attempts/attempt-limits';
import { challengeNotFound } from '../errors';
import type { Clock } from '../infra/clock';
import { CiphertextRefused, type SecretBinding, type SecretBox } from '../infra/crypto/cipher';
import { randomId } from '../infra/crypto/random';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { Store } from '../infra/store/store';
import { LIMITS } from '../limits';
import type { SpentLoginChallenges } from './spent-login-challenges';

export { challengeNotFound };

const CHALLENGE_TTL_MS = LIMITS.challengeTtlSeconds * 1000;
const ID_PATTERN = /^[A-Za-z0-9_-]{24}$/;

export interface Challenge {
  id: string;
  userId: string;
  expiresAt: Date;
  /** The id's keyed hash: how the store and the spent list name it. */
  hash: string;
}

/**
 * Pending login challenges: an unguessable id (144 random bits) bound to one
 * user, living 5 minutes, allowing 5 attempts, spent by the first success.
 * The id is a credential, so keys hold only its keyed hash, which both keys of
 * a challenge share as hash tag (one Cluster slot). The value names the user,
 * so it is encrypted (AES-256-GCM, bound to the challenge's key): a reader of
 * the store learns no user id, and a value copied under another challenge's key
 * does not open there. The record and its tries live in the store; the spend is
 * durable, in the database (SpentLoginChallenges).
 */
export class ChallengeStore {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly keyHash: StoreKeyHash,
    private readonly spent: SpentLoginChallenges,
    private readonly clock: Clock,
  ) {}

  async open(userId: string): Promise<Challenge> {
    const id = randomId();
    const challenge = {
      id,
      userId,
      expiresAt: new Date(this.clock.now().getTime() + CHALLENGE_TTL_MS),
      hash: this.hashOf(id),
    };
    const value = JSON.stringify({ userId, expiresAt: challenge.expiresAt.getTime() });
    await this.store.set(
      this.key(challenge.hash),
      this.secrets.seal(value, bindingOf(challenge.hash)),
      CHALLENGE_TTL_MS,
    );
    return challenge;
  }

  /** Where the answer path's admission finds the challenge and counts its try; null for an id this service never issues. */
  admission(id: string): ChallengeAdmission | null {
    if (!ID_PATTERN.test(id)) return null;
    const hash = this.hashOf(id);
    return {
      key: this.key(hash),
      triesKey: this.triesKey(hash),
      maxTries: LIMITS.challengeMaxAttempts,
      triesTtlMs: CHALLENGE_TTL_MS,
    };
  }

  /** The challenge a stored value describes; null when there is none, it expired, or it does not open for this id. */
  parse(id: string, stored: string | null): Challenge | null {
    if (stored === null) return null;
    const hash = this.hashOf(id);
    let value: string;
    try {
      // A value written in clear before values were encrypted (a challenge lives 5 minutes) is still read.
      value = stored.startsWith('{') ? stored : this.secrets.open(stored, bindingOf(hash));
    } catch (error) {
      if (error instanceof CiphertextRefused) return null;
      throw error;
    }
    const { userId, expiresAt } = JSON.parse(value) as { userId: string; expiresAt: number };
    if (expiresAt <= this.clock.now().getTime()) return null;
    return { id, userId, expiresAt: new Date(expiresAt), hash };
  }

  /** The live challenge, or null when unknown, expired or spent (outside the answer path: e.g. sending its SMS). */
  async find(id: string): Promise<Challenge | null> {
    const admission = this.admission(id);
    if (!admission) return null;
    const challenge = this.parse(id, await this.store.get(admission.key));
    if (!challenge || (await this.spent.isSpent(challenge.hash))) return null;
    return challenge;
  }

  /** Whether the challenge has had its 5 attempts (then nothing can answer it, so nothing is sent for it). */
  async isExhausted(challenge: Challenge): Promise<boolean> {
    return Number((await this.store.get(this.triesKey(challenge.hash))) ?? 0) >= LIMITS.challengeMaxAttempts;
  }

  private hashOf(id: string): string {
    return this.keyHash.of('challenge', id);
  }

  private key(hash: string): string {
    return `challenge:{${hash}}`;
  }

  private triesKey(hash: string): string {
    return `challenge-attempts:{${hash}}`;
  }
}

/** A challenge's value is sealed to its key's hash (the id itself is never stored). */
const bindingOf = (hash: string): SecretBinding => ({ purpose: 'login-challenge', row: hash });
