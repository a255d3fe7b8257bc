import type { Actor, AuditLog } from '../audit/audit-log';
import type { Database } from '../infra/db/database';
import type { FactorRepository } from '../infra/db/repositories/factor.repository';
import type { StepUp } from '../step-up/step-up';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';
import type { TwoFactorLifecycle } from './two-factor-lifecycle';

/** Turning two-factor off altogether: every factor, pending setup and recovery code goes. */
export class TwoFactorService {
  constructor(
    private readonly database: Database,
    private readonly factors: FactorRepository,
    private readonly stepUp: StepUp,
    private readonly lifecycle: TwoFactorLifecycle,
    private readonly statuses: TwoFactorStatusReader,
    private readonly audit: AuditLog,
  ) {}

  async disable(actor: Actor, userId: string, code: string): Promise<TwoFactorStatus> {
    await this.stepUp.requireEnabled(userId);
    // Checked before the code is spent, and again under locks below.
    await this.database.run((manager) => this.lifecycle.assertMayTurnOff(manager, userId));
    await this.stepUp.require(actor, userId, code, async (manager, _method, now) => {
      await this.lifecycle.assertMayTurnOff(manager, userId);
      await this.factors.deleteAllOf(manager, userId);
      await this.lifecycle.disableIfNoFactorLeft(manager, userId);
      await this.audit.record(manager, actor, { action: 'TWO_FACTOR_DISABLED', userId }, now);
    });
    return this.statuses.readOne(userId);
  }
}
