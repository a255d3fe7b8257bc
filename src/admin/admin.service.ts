import type { AuditLog } from '../audit/audit-log';
import type { Actor } from '../callers/caller';
import type { TwoFactorLifecycle } from '../factors/two-factor-lifecycle';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import { parsePlainText } from '../plain-text';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { UserRepository } from '../users/user.repository';
import type { TwoFactorStatus } from '../users/user.types';

export interface AdminServiceDependencies {
  database: Database;
  users: UserRepository;
  lifecycle: TwoFactorLifecycle;
  statuses: TwoFactorStatusReader;
  audit: AuditLog;
  clock: Clock;
}

/** Support (twofactor:admin): what a user cannot do alone. */
export class AdminService {
  constructor(private readonly deps: AdminServiceDependencies) {}

  /**
   * Removes every second factor, pending setup, recovery code and trusted device
   * of the user and ends its lock, in one transaction holding the user's row
   * lock (then its organizations', through the lifecycle). No organization rule
   * applies: this is how a member of an organization that requires two-factor
   * gets back in.
   */
  async resetTwoFactor(actor: Actor, userId: string, reason: string): Promise<TwoFactorStatus> {
    // UTF-16 units: never more than the audit log keeps, so the reason is stored whole.
    const text = parsePlainText(reason, 'reason', LIMITS.maxReasonLength);
    const status = await this.deps.database.transaction(async (manager) => {
      const now = this.deps.clock.now();
      await this.deps.users.lock(manager, userId, now);
      const credentialTypes = await this.deps.lifecycle.credentialTypesHeld(manager, userId);
      await this.deps.lifecycle.removeEverything(manager, userId);
      await this.deps.lifecycle.disableIfNoFactorLeft(manager, userId);
      await this.deps.lifecycle.revokeTrustedDevices(manager, actor, userId, now, 'two-factor reset by an admin');
      await this.deps.users.update(manager, userId, {
        failedAttemptsInRow: 0,
        failuresInWindow: 0,
        failureWindowStartedAt: null,
      });
      await this.deps.audit.record(
        manager,
        actor,
        { action: 'TWO_FACTOR_RESET_BY_ADMIN', userId, reason: text, details: { credentialTypes } },
        now,
      );
      return this.deps.statuses.readIn(manager, userId);
    });
    return status;
  }
}
