import type { AnswerPurpose } from '../../attempts/second-factor';
import type { Clock } from '../../infra/clock';
import type { StoreKeyHash } from '../../infra/crypto/store-key-hash';
import type { Store } from '../../infra/store/store';

/**
 * Authentication challenges (login and step-up): one live challenge per
 * purpose (one login challenge; one user's step-up), a new one replacing the
 * old, spent by the first right answer. Key names are keyed hashes.
 * (Registration challenges are pending setups: FactorSetup keeps them.)
 */
export class WebAuthnChallengeStore {
  constructor(
    private readonly store: Store,
    private readonly keyHash: StoreKeyHash,
    private readonly clock: Clock,
  ) {}

  async put(purpose: AnswerPurpose, challenge: string, expiresAt: Date): Promise<void> {
    const ttlMs = Math.max(1, expiresAt.getTime() - this.clock.now().getTime());
    await this.store.set(this.key(purpose), challenge, ttlMs);
  }

  get(purpose: AnswerPurpose): Promise<string | null> {
    return this.store.get(this.key(purpose));
  }

  /** True only for the one caller that spent it. */
  spend(purpose: AnswerPurpose): Promise<boolean> {
    return this.store.delete(this.key(purpose));
  }

  private key(purpose: AnswerPurpose): string {
    const subject = purpose.kind === 'login' ? purpose.challengeId : purpose.userId;
    return `webauthn-challenge:{${this.keyHash.of('webauthn-challenge', purpose.kind, subject)}}`;
  }
}
