import type { EntityManager } from 'typeorm';
import type { FactorRegistry } from '../attempts/factor-registry';
import type { Answer, Enrollment } from '../attempts/second-factor';
import type { StepUp } from '../attempts/step-up';
import type { AuditLog } from '../audit/audit-log';
import type { Actor } from '../callers/caller';
import { AppError } from '../errors';
import type { Database } from '../infra/db/database';
import type { EnrolledMethod } from '../users/two-factor-method';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';
import type { TwoFactorLifecycle } from './two-factor-lifecycle';

export interface TwoFactorServiceDependencies {
  database: Database;
  registry: FactorRegistry;
  stepUp: StepUp;
  lifecycle: TwoFactorLifecycle;
  statuses: TwoFactorStatusReader;
  audit: AuditLog;
}

/** Removing one factor, or turning two-factor off altogether. */
export class TwoFactorService {
  constructor(private readonly deps: TwoFactorServiceDependencies) {}

  /**
   * Removes all of one factor (or, with `one`, one of several, such as a
   * security key) behind a step-up; the last factor gone turns two-factor off,
   * unless an organization requires it.
   */
  async removeFactor(
    actor: Actor,
    userId: string,
    stepUp: Answer,
    method: EnrolledMethod,
    one?: string,
  ): Promise<TwoFactorStatus> {
    const { database, lifecycle, statuses, audit } = this.deps;
    const enrollment = this.deps.registry.enrollment(method);
    const remove = (manager: EntityManager) =>
      one === undefined || !enrollment.removeOne
        ? enrollment.removeAll(manager, userId)
        : enrollment.removeOne(manager, userId, one);
    await this.deps.stepUp.requireEnabled(userId);
    const [present, total] = await database.run((manager) =>
      Promise.all([enrollment.count(manager, userId), lifecycle.countFactors(manager, userId)]),
    );
    if (present === 0) throw notEnrolled(enrollment);
    // Checked before the answer is spent, and again under locks below.
    if (total === (one === undefined ? present : 1))
      await database.run((manager) => lifecycle.assertMayTurnOff(manager, userId, { lock: false }));
    return this.deps.stepUp.require(actor, userId, stepUp, async (manager, _method, now) => {
      const [mine, all] = await Promise.all([
        enrollment.count(manager, userId),
        lifecycle.countFactors(manager, userId),
      ]);
      if (all === (one === undefined ? mine : 1)) await lifecycle.assertMayTurnOff(manager, userId);
      // Read while it is there: the event of its removal may show it (a masked phone number).
      const details = {
        ...(await enrollment.eventDetails?.(manager, userId)),
        credentialTypes: [
          ...new Set(
            (await lifecycle.credentialsOf(manager, userId, enrollment))
              .filter((credential) => one === undefined || credential.id === one)
              .map((credential) => credential.type),
          ),
        ],
      };
      if (!(await remove(manager))) throw notEnrolled(enrollment);
      await enrollment.afterChange?.(manager, userId, { enforce: true });
      await audit.record(manager, actor, { action: enrollment.removedAction, userId, details }, now);
      await lifecycle.revokeTrustedDevices(manager, actor, userId, now, `${enrollment.noun} removed`);
      if (await lifecycle.disableIfNoFactorLeft(manager, userId)) {
        await audit.record(
          manager,
          actor,
          { action: 'TWO_FACTOR_DISABLED', userId, reason: 'last factor removed' },
          now,
        );
      }
      return statuses.readIn(manager, userId);
    });
  }

  /** Every factor, pending setup and recovery code goes. */
  async disable(actor: Actor, userId: string, stepUp: Answer): Promise<TwoFactorStatus> {
    const { database, lifecycle, statuses, audit } = this.deps;
    await this.deps.stepUp.requireEnabled(userId);
    // Checked before the answer is spent, and again under locks below.
    await database.run((manager) => lifecycle.assertMayTurnOff(manager, userId, { lock: false }));
    return this.deps.stepUp.require(actor, userId, stepUp, async (manager, _method, now) => {
      await lifecycle.assertMayTurnOff(manager, userId);
      const credentialTypes = await lifecycle.credentialTypesHeld(manager, userId);
      await lifecycle.removeEverything(manager, userId);
      await lifecycle.disableIfNoFactorLeft(manager, userId);
      await lifecycle.revokeTrustedDevices(manager, actor, userId, now, 'two-factor turned off');
      await audit.record(manager, actor, { action: 'TWO_FACTOR_DISABLED', userId, details: { credentialTypes } }, now);
      return statuses.readIn(manager, userId);
    });
  }
}

const notEnrolled = (enrollment: Enrollment) => new AppError('NOT_ENROLLED', `No ${enrollment.noun} is set up.`);
