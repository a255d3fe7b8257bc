import type { EntityManager } from 'typeorm';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { UserRepository } from '../../infra/db/repositories/user.repository';
import { type Accepted, type Answer, type Enrollment, isSixDigits, type SecondFactor } from '../factor';
import { TwoFactorMethod } from '../method';
import { matchTotpStep } from './totp-algorithm';
import type { TotpFactorRepository } from './totp-factor.repository';

/**
 * A code from the user's confirmed authenticator. Accepting it records its time
 * step for the user: no code of that step or an earlier one works again, in any
 * operation, on any instance (one conditional UPDATE decides races).
 */
const ACCEPTED: Accepted = { amr: ['otp'] };

export class TotpFactor implements SecondFactor {
  readonly method = TwoFactorMethod.TOTP;
  readonly refusedWhenLocked = true;
  readonly enrollment: Enrollment;

  constructor(
    private readonly authenticators: TotpFactorRepository,
    private readonly users: UserRepository,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {
    this.enrollment = {
      method: TwoFactorMethod.TOTP,
      noun: 'TOTP authenticator',
      enabledAction: 'TOTP_ENABLED',
      removedAction: 'TOTP_REMOVED',
      count: (manager, userId) => authenticators.count(manager, userId),
      removeAll: (manager, userId) => authenticators.delete(manager, userId),
    };
  }

  accepts({ code }: Answer): boolean {
    return code !== undefined && isSixDigits(code);
  }

  async verify(manager: EntityManager, userId: string, answer: Answer): Promise<Accepted | null> {
    const ciphertext = await this.authenticators.secretOf(manager, userId);
    if (ciphertext === null || answer.code === undefined) return null;
    return (await this.verifySecret(manager, userId, this.secrets.decrypt(ciphertext), answer.code)) ? ACCEPTED : null;
  }

  async recordUse(manager: EntityManager, _actor: unknown, userId: string, now: Date): Promise<void> {
    await this.authenticators.touch(manager, userId, now);
  }

  /** Also confirms a new authenticator's secret: the same replay rule applies. */
  async verifySecret(manager: EntityManager, userId: string, secretBase32: string, code: string): Promise<boolean> {
    const step = matchTotpStep(secretBase32, code, this.clock.now());
    return step !== null && (await this.users.advanceTotpStep(manager, userId, step));
  }
}
