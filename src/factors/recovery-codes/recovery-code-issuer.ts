import type { EntityManager } from 'typeorm';
import type { SecretBox } from '../../infra/crypto/cipher';
import { LIMITS } from '../../limits';
import type { UserRepository } from '../../users/user.repository';
import { formatRecoveryCode, generateRecoveryCode } from './recovery-code-format';
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
        codeCiphertext: this.secrets.encrypt(code),
        position,
        usedAt: null,
        createdAt: now,
      })),
    );
    await this.users.update(manager, userId, { recoveryCodesGeneratedAt: now });
    return codes.map(formatRecoveryCode);
  }

  /** The current set, decrypted, for viewing. */
  async list(manager: EntityManager, userId: string): Promise<{ code: string; usedAt: Date | null }[]> {
    const rows = await this.codes.list(manager, userId);
    return rows.map((row) => ({
      code: formatRecoveryCode(this.secrets.decrypt(row.codeCiphertext)),
      usedAt: row.usedAt,
    }));
  }
}
