import type { EntityManager } from 'typeorm';
import type { Actor, AuditLog } from '../../audit/audit-log';
import type { Clock } from '../../infra/clock';
import type { SecretBox } from '../../infra/crypto/cipher';
import type { Accepted, Answer, SecondFactor } from '../factor';
import { TwoFactorMethod } from '../method';
import { normalizeRecoveryCode } from './recovery-code-format';
import type { RecoveryCodeRepository } from './recovery-code.repository';

const ACCEPTED: Accepted = { amr: ['recovery'] };

/**
 * An unused recovery code, found by keyed hash and marked used in one
 * conditional UPDATE. The lock does not refuse it: it is how a locked user gets back in.
 */
export class RecoveryCodeFactor implements SecondFactor {
  readonly method = TwoFactorMethod.RECOVERY_CODE;
  readonly refusedWhenLocked = false;

  constructor(
    private readonly codes: RecoveryCodeRepository,
    private readonly secrets: SecretBox,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  accepts({ code }: Answer): boolean {
    return code !== undefined && normalizeRecoveryCode(code) !== null;
  }

  async verify(manager: EntityManager, userId: string, { code }: Answer): Promise<Accepted | null> {
    const normalized = code === undefined ? null : normalizeRecoveryCode(code);
    if (!normalized) return null;
    return (await this.codes.use(manager, userId, this.secrets.lookupHashes(normalized), this.clock.now()))
      ? ACCEPTED
      : null;
  }

  async recordUse(manager: EntityManager, actor: Actor, userId: string, now: Date): Promise<void> {
    await this.audit.record(manager, actor, { action: 'RECOVERY_CODE_USED', userId }, now);
  }
}
