import type { EntityManager } from 'typeorm';
import { AppError } from '../../errors';
import { CiphertextRefused, type SecretBox } from '../../infra/crypto/cipher';
import { LIMITS } from '../../limits';
import type { UserRepository } from '../../users/user.repository';
import { formatRecoveryCode, generateRecoveryCode } from './recovery-code-format';
import { recoveryCodeBinding } from './recovery-code.entity';
import type { RecoveryCodeRepository } from './recovery-code.repository';

/** Issues a fresh set of recovery codes, voiding the old set, inside the caller's transaction. */
export class RecoveryCodeIssuer {
  constructor(
    private readonly codes: RecoveryCodeRepository,
    private readonly users: UserRepository,
    private readonly secrets: SecretBox,
  ) {}

  /** Returns the new codes, formatted; they are stored only encrypted and as keyed hashes. */
  async issue(manager: EntityManager, userId: string, now: Date): Promise<string[]> {
    const codes = Array.from({ length: LIMITS.recoveryCodeCount }, generateRecoveryCode);
    await this.codes.replaceAll(
      manager,
      userId,
      codes.map((code, position) => ({
        userId,
        codeHash: this.secrets.hash(code),
        codeCiphertext: this.secrets.seal(code, recoveryCodeBinding(userId, position)),
        position,
        usedAt: null,
        createdAt: now,
      })),
    );
    await this.users.update(manager, userId, { recoveryCodesGeneratedAt: now });
    return codes.map(formatRecoveryCode);
  }

  /** The current set, decrypted, for viewing; NOT_FOUND when one does not open for its row (the refusal is audited). */
  async list(manager: EntityManager, userId: string): Promise<{ code: string; usedAt: Date | null }[]> {
    const rows = await this.codes.list(manager, userId);
    return rows.map((row) => ({
      code: formatRecoveryCode(this.open(row.codeCiphertext, userId, row.position)),
      usedAt: row.usedAt,
    }));
  }

  private open(ciphertext: string, userId: string, position: number): string {
    try {
      return this.secrets.open(ciphertext, recoveryCodeBinding(userId, position));
    } catch (error) {
      if (!(error instanceof CiphertextRefused)) throw error;
      throw new AppError('NOT_FOUND', 'The recovery codes cannot be read: regenerate them (regenerateRecoveryCodes).');
    }
  }
}
