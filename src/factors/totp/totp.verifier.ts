import type { EntityManager } from 'typeorm';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { FactorRepository } from '../../infra/db/repositories/factor.repository';
import type { UserRepository } from '../../infra/db/repositories/user.repository';
import { TwoFactorMethod } from '../../users/user.types';
import { type CodeVerifier, isSixDigits } from '../factor';
import { matchTotpStep } from './totp-algorithm';

/**
 * A code from the user's confirmed authenticator. Accepting it records its time
 * step for the user: no code of that step or an earlier one works again, in any
 * operation, on any instance (one conditional UPDATE decides races).
 */
export class TotpVerifier implements CodeVerifier {
  readonly method = TwoFactorMethod.TOTP;

  constructor(
    private readonly factors: FactorRepository,
    private readonly users: UserRepository,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  accepts(code: string): boolean {
    return isSixDigits(code);
  }

  async verify(manager: EntityManager, userId: string, code: string): Promise<boolean> {
    const factor = await this.factors.findTotp(manager, userId);
    if (!factor) return false;
    return this.verifySecret(manager, userId, this.secrets.decrypt(factor.secretCiphertext), code);
  }

  /** Also used to confirm a new authenticator's secret: the same replay rule applies. */
  async verifySecret(manager: EntityManager, userId: string, secretBase32: string, code: string): Promise<boolean> {
    const step = matchTotpStep(secretBase32, code, this.clock.now());
    return step !== null && (await this.users.advanceTotpStep(manager, userId, step));
  }
}
