import type { Actor, AuditLog } from '../audit/audit-log';
import type { Database } from '../infra/db/database';
import { AppError } from '../errors';
import type { FactorMethod, FactorRepository } from '../infra/db/repositories/factor.repository';
import type { StepUp } from '../step-up/step-up';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';
import type { TwoFactorLifecycle } from './two-factor-lifecycle';

/** Removing one factor, or turning two-factor off altogether. */
export class TwoFactorService {
  constructor(
    private readonly database: Database,
    private readonly factors: FactorRepository,
    private readonly stepUp: StepUp,
    private readonly lifecycle: TwoFactorLifecycle,
    private readonly statuses: TwoFactorStatusReader,
    private readonly audit: AuditLog,
  ) {}

  /** Removes one factor behind a step-up; the last one gone turns two-factor off (unless an organization requires it). */
  async removeFactor(actor: Actor, userId: string, code: string, method: FactorMethod): Promise<TwoFactorStatus> {
    const other: FactorMethod = method === 'TOTP' ? 'SMS' : 'TOTP';
    await this.stepUp.requireEnabled(userId);
    const [present, otherPresent] = await this.database.run((manager) =>
      Promise.all([this.factors.has(manager, userId, method), this.factors.has(manager, userId, other)]),
    );
    if (!present) throw notEnrolled(method);
    // Checked before the code is spent, and again under locks below.
    if (!otherPresent) await this.database.run((manager) => this.lifecycle.assertMayTurnOff(manager, userId, { lock: false }));
    return this.stepUp.require(actor, userId, code, async (manager, _method, now) => {
      if (!(await this.factors.has(manager, userId, other))) await this.lifecycle.assertMayTurnOff(manager, userId);
      if (!(await this.factors.delete(manager, userId, method))) throw notEnrolled(method);
      await this.audit.record(manager, actor, { action: method === 'TOTP' ? 'TOTP_REMOVED' : 'SMS_REMOVED', userId }, now);
      if (await this.lifecycle.disableIfNoFactorLeft(manager, userId)) {
        await this.audit.record(manager, actor, { action: 'TWO_FACTOR_DISABLED', userId, reason: 'last factor removed' }, now);
      }
      return this.statuses.readIn(manager, userId);
    });
  }

  /** Every factor, pending setup and recovery code goes. */
  async disable(actor: Actor, userId: string, code: string): Promise<TwoFactorStatus> {
    await this.stepUp.requireEnabled(userId);
    // Checked before the code is spent, and again under locks below.
    await this.database.run((manager) => this.lifecycle.assertMayTurnOff(manager, userId, { lock: false }));
    return this.stepUp.require(actor, userId, code, async (manager, _method, now) => {
      await this.lifecycle.assertMayTurnOff(manager, userId);
      await this.factors.deleteAllOf(manager, userId);
      await this.lifecycle.disableIfNoFactorLeft(manager, userId);
      await this.audit.record(manager, actor, { action: 'TWO_FACTOR_DISABLED', userId }, now);
      return this.statuses.readIn(manager, userId);
    });
  }
}

const notEnrolled = (method: FactorMethod) =>
  new AppError('NOT_ENROLLED', method === 'TOTP' ? 'No TOTP authenticator is set up.' : 'No phone number is set up.');
