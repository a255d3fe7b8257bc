import type { EntityManager } from 'typeorm';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { RecoveryCodeRepository } from '../../infra/db/repositories/factor.repository';
import { TwoFactorMethod } from '../../users/user.types';
import type { CodeVerifier } from '../factor';
import { normalizeRecoveryCode } from './recovery-code-format';

/** An unused recovery code, found by keyed hash and marked used in one conditional UPDATE. */
export class RecoveryCodeVerifier implements CodeVerifier {
  readonly method = TwoFactorMethod.RECOVERY_CODE;

  constructor(
    private readonly codes: RecoveryCodeRepository,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  accepts(code: string): boolean {
    return normalizeRecoveryCode(code) !== null;
  }

  async verify(manager: EntityManager, userId: string, code: string): Promise<boolean> {
    const normalized = normalizeRecoveryCode(code);
    if (!normalized) return false;
    return this.codes.use(manager, userId, this.secrets.lookupHashes(normalized), this.clock.now());
  }
}
