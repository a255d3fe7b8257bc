import type { AttemptLimits } from '../attempts/attempt-limits';
import type { Actor, AuditLog } from '../audit/audit-log';
import type { TwoFactorLifecycle } from '../factors/two-factor-lifecycle';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { FactorRepository } from '../infra/db/repositories/factor.repository';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';
import { parsePlainText } from '../plain-text';

const MAX_REASON_LENGTH = 500;

/** Support (twofactor:admin): what a user cannot do alone. */
export class AdminService {
  constructor(
    private readonly database: Database,
    private readonly users: UserRepository,
    private readonly factors: FactorRepository,
    private readonly lifecycle: TwoFactorLifecycle,
    private readonly attemptLimits: AttemptLimits,
    private readonly statuses: TwoFactorStatusReader,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * Removes every second factor, pending setup and recovery code of the user and
   * ends its lock, in one transaction holding the user's row lock (then its
   * organizations', through the lifecycle). No organization rule applies: this is
   * how a member of an organization that requires two-factor gets back in.
   */
  async resetTwoFactor(actor: Actor, userId: string, reason: string): Promise<TwoFactorStatus> {
    // UTF-16 units: never more than the audit log keeps, so the reason is stored whole.
    const text = parsePlainText(reason, 'reason', MAX_REASON_LENGTH);
    const status = await this.database.transaction(async (manager) => {
      const now = this.clock.now();
      await this.users.lock(manager, userId, now);
      await this.factors.deleteAllOf(manager, userId);
      await this.lifecycle.disableIfNoFactorLeft(manager, userId);
      await this.users.update(manager, userId, { failedAttemptsInRow: 0 });
      await this.audit.record(manager, actor, { action: 'TWO_FACTOR_RESET_BY_ADMIN', userId, reason: text }, now);
      return this.statuses.readIn(manager, userId);
    });
    // The failure window lives in the store; cleared once the reset is committed
    // (if the store is down, the window simply runs out: the reset itself stands).
    await this.attemptLimits.reset(userId).catch(() => undefined);
    return status;
  }
}
