import type { Accepted, Answer, FactorCheck, SecondFactor } from '../../attempts/second-factor';
import type { AuditLog } from '../../audit/audit-log';
import type { SecretBox } from '../../infra/crypto/cipher';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { normalizeRecoveryCode } from './recovery-code-format';
import type { RecoveryCodeRepository } from './recovery-code.repository';
import { RECOVERY_CODES_STATUS } from './recovery-code.repository';

const ACCEPTED: Accepted = { amr: ['recovery'] };

/**
 * An unused recovery code, found by keyed hash under the user's row lock and
 * marked used with the answer's COMMIT. The lock does not refuse it: it is how a
 * locked user gets back in.
 */
export class RecoveryCodeFactor implements SecondFactor {
  readonly method = TwoFactorMethod.RECOVERY_CODE;
  readonly refusedWhenLocked = false;
  readonly statusPart = RECOVERY_CODES_STATUS;

  constructor(
    private readonly codes: RecoveryCodeRepository,
    private readonly secrets: SecretBox,
    private readonly audit: AuditLog,
  ) {}

  accepts({ code }: Answer): boolean {
    return code !== undefined && normalizeRecoveryCode(code) !== null;
  }

  reads(userId: string, { code }: Answer) {
    const normalized = code === undefined ? null : normalizeRecoveryCode(code);
    return normalized ? [this.codes.unusedRead(userId, this.secrets.lookupHashes(normalized))] : [];
  }

  async verify({ manager, user, actor, rows, now }: FactorCheck): Promise<Accepted | null> {
    const id = rows.length === 0 ? null : this.codes.unusedOf(rows[0]);
    if (id === null) return null;
    await this.codes.markUsed(manager, id, now);
    await this.audit.record(manager, actor, { action: 'RECOVERY_CODE_USED', userId: user.id }, now);
    return ACCEPTED;
  }
}
