import type { AttemptLimits } from '../attempts/attempt-limits';
import type { Actor, AuditLog } from '../audit/audit-log';
import { badInput } from '../errors';
import type { TwoFactorLifecycle } from '../factors/two-factor-lifecycle';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { FactorRepository } from '../infra/db/repositories/factor.repository';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';

const MAX_REASON_LENGTH = 500;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

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
    const text = parseReason(reason);
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

function parseReason(reason: string): string {
  const text = typeof reason === 'string' ? reason.trim() : '';
  // UTF-16 units: never more than the audit log keeps, so the reason is stored whole.
  if (text.length === 0 || text.length > MAX_REASON_LENGTH || CONTROL_CHARACTERS.test(text)) {
    throw badInput(`reason must be 1 to ${MAX_REASON_LENGTH} characters without control characters.`, 'reason');
  }
  return text;
}
