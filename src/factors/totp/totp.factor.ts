import type { EntityManager } from 'typeorm';
import {
  type Accepted,
  type Answer,
  type Enrollment,
  type FactorCheck,
  isSixDigits,
  type SecondFactor,
} from '../../attempts/second-factor';
import { CiphertextRefused, type SecretBox } from '../../infra/crypto/cipher';
import { TwoFactorMethod } from '../../users/two-factor-method';
import type { UserRepository, LockedUser } from '../../users/user.repository';
import { matchTotpStep } from './totp-algorithm';
import { totpSecretBinding } from './totp-factor.entity';
import type { TotpFactorRepository } from './totp-factor.repository';
import { TOTP_STATUS } from './totp-factor.repository';

/**
 * A code from the user's confirmed authenticator. Accepting it records its time
 * step for the user: no code of that step or an earlier one works again, in any
 * operation, on any instance (decided under the user's row lock, which every
 * answer takes).
 */
const ACCEPTED: Accepted = { amr: ['otp'] };

export class TotpFactor implements SecondFactor {
  readonly method = TwoFactorMethod.TOTP;
  readonly refusedWhenLocked = true;
  readonly enrollment: Enrollment;
  readonly statusPart = TOTP_STATUS;

  constructor(
    private readonly authenticators: TotpFactorRepository,
    private readonly users: UserRepository,
    private readonly secrets: SecretBox,
  ) {
    this.enrollment = {
      method: TwoFactorMethod.TOTP,
      noun: 'TOTP authenticator',
      enabledAction: 'TOTP_ENABLED',
      removedAction: 'TOTP_REMOVED',
      count: (manager, userId) => authenticators.count(manager, userId),
      // An authenticator app: CAEP's `app`.
      credentials: async (manager, userId) =>
        (await authenticators.count(manager, userId)) > 0 ? [{ id: 'totp', type: 'app' }] : [],
      removeAll: (manager, userId) => authenticators.delete(manager, userId),
    };
  }

  accepts({ code }: Answer): boolean {
    return code !== undefined && isSixDigits(code);
  }

  reads(userId: string) {
    return [this.authenticators.secretRead(userId)];
  }

  async verify({ manager, user, answer, rows, now }: FactorCheck): Promise<Accepted | null> {
    const ciphertext = this.authenticators.secretOf(rows[0]);
    if (ciphertext === null || answer.code === undefined) return null;
    const secret = this.secretIn(ciphertext, user.id);
    if (secret === null || !(await this.spendStep(manager, user, secret, answer.code, now))) return null;
    await this.authenticators.recordUse(manager, user.id, now);
    return ACCEPTED;
  }

  /**
   * A secret that does not open for this user (moved from another row, altered,
   * or under a key this instance lacks) answers nothing: the answer fails as a
   * wrong one would; the refusal itself is audited (the keys module hears of it).
   */
  private secretIn(ciphertext: string, userId: string): string | null {
    try {
      return this.secrets.open(ciphertext, totpSecretBinding(userId));
    } catch (error) {
      if (error instanceof CiphertextRefused) return null;
      throw error;
    }
  }

  /**
   * Also confirms a new authenticator's secret: the same replay rule applies.
   * The step must be later than every step accepted before; it is recorded
   * (queued with the COMMIT) under the row lock the caller holds.
   */
  async spendStep(
    manager: EntityManager,
    user: LockedUser,
    secretBase32: string,
    code: string,
    now: Date,
  ): Promise<boolean> {
    const step = matchTotpStep(secretBase32, code, now);
    if (step === null || (user.lastTotpStep !== null && step <= user.lastTotpStep)) return false;
    await this.users.recordTotpStep(manager, user.id, step);
    return true;
  }
}
