import type { Answer } from '../../attempts/second-factor';
import type { StepUp } from '../../attempts/step-up';
import type { AuditLog } from '../../audit/audit-log';
import type { Actor } from '../../callers/caller';
import type { UserRepository } from '../../users/user.repository';
import type { TwoFactorLifecycle } from '../two-factor-lifecycle';
import type { RecoveryCodeIssuer } from './recovery-code-issuer';
import type { RecoveryCodeList } from './recovery-codes.types';

/** Viewing and regenerating recovery codes, each behind a step-up answer. */
export class RecoveryCodesService {
  constructor(
    private readonly stepUp: StepUp,
    private readonly issuer: RecoveryCodeIssuer,
    private readonly users: UserRepository,
    private readonly lifecycle: TwoFactorLifecycle,
    private readonly audit: AuditLog,
  ) {}

  view(actor: Actor, userId: string, stepUp: Answer): Promise<RecoveryCodeList> {
    return this.stepUp.require(actor, userId, stepUp, async (manager, _method, now) => {
      const [codes, user] = await Promise.all([this.issuer.list(manager, userId), this.users.find(manager, userId)]);
      await this.audit.record(manager, actor, { action: 'RECOVERY_CODES_VIEWED', userId }, now);
      return { codes, generatedAt: user?.recoveryCodesGeneratedAt ?? now };
    });
  }

  /** A new set of ten; the old set and every trusted device stop working in the same transaction. */
  regenerate(actor: Actor, userId: string, stepUp: Answer): Promise<RecoveryCodeList> {
    return this.stepUp.require(actor, userId, stepUp, async (manager, _method, now) => {
      const codes = await this.issuer.issue(manager, userId, now);
      await this.audit.record(manager, actor, { action: 'RECOVERY_CODES_REGENERATED', userId }, now);
      await this.lifecycle.revokeTrustedDevices(manager, actor, userId, now, 'recovery codes regenerated');
      return { codes: codes.map((value) => ({ code: value, usedAt: null })), generatedAt: now };
    });
  }
}
