import type { EntityManager } from 'typeorm';
import type { AuditLog } from '../audit/audit-log';
import type { Actor } from '../callers/caller';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import { LIMITS } from '../limits';
import { graceReminders, nextReminderDue } from '../organizations/grace-period';
import { OrganizationRecord } from '../organizations/organization.entity';
import type { OrganizationRepository } from '../organizations/organization.repository';
import { GracePeriodReminderRecord } from './grace-reminder.entity';
import type { RequirementCounts } from './requirement-counts';

const reminders = new Table(GracePeriodReminderRecord);
const organizations = new Table(OrganizationRecord);
const R = {
  table: reminders.name,
  organization: reminders.column('organizationId'),
  endsAt: reminders.column('gracePeriodEndsAt'),
  kind: reminders.column('kind'),
  sentAt: reminders.column('sentAt'),
};
const O = {
  table: organizations.name,
  id: organizations.column('id'),
  due: organizations.column('graceReminderDueAt'),
};

const NOBODY: Actor = { actorId: null, clientIp: null };

/**
 * A grace period's reminders (contract README, "Enforcement"): the event
 * `organization.grace_period_ending` 7 days and 1 day before it ends, and
 * `organization.grace_period_ended` when it ends, each once per grace period.
 *
 * Every instance runs this job. `organizations.grace_reminder_due_at` (indexed)
 * says when an organization's next reminder is due, so a run reads only the
 * organizations due. Each is handled in a transaction that locks its row, claims
 * every reminder due by now and not sent (an INSERT of its row into
 * `grace_period_reminders`, whose primary key is the organization, the grace
 * period's end and the kind: a second claim inserts nothing), writes the
 * claimed reminders' audit events and outbox rows, and moves the due time to the
 * next reminder. A reminder missed while no instance ran is sent at the next
 * run: late rather than never. A grace period replaced or stopped before a
 * reminder was due has no more reminders.
 */
export class GraceReminders {
  constructor(
    private readonly database: Database,
    private readonly organizations: OrganizationRepository,
    private readonly counts: RequirementCounts,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** Sends every reminder due now; returns how many were sent. */
  async run(): Promise<number> {
    let sent = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await this.database.run(async (manager) => {
        const rows = (await manager.query(
          `SELECT ${O.id} FROM ${O.table} WHERE ${O.due} <= ? ORDER BY ${O.due} LIMIT ?`,
          [sqlTime(now), LIMITS.enforcementJobBatch],
        )) as Record<string, unknown>[];
        return rows.map((row) => String(row[O.id]));
      });
      let progressed = 0;
      for (const organizationId of due) {
        const result = await this.database.transaction((manager) => this.remind(manager, organizationId));
        sent += result.sent;
        if (result.moved) progressed += 1;
      }
      // Another instance may hold the same rows: stop when this run moved none of them.
      if (due.length < LIMITS.enforcementJobBatch || progressed === 0) return sent;
    }
  }

  /** One organization's due reminders, under its row lock. */
  private async remind(manager: EntityManager, organizationId: string): Promise<{ sent: number; moved: boolean }> {
    const now = this.clock.now();
    const organization = await this.organizations.lock(manager, organizationId);
    if (!organization?.graceReminderDueAt || organization.graceReminderDueAt > now) return { sent: 0, moved: false };
    const { gracePeriodStartedAt: startedAt, gracePeriodEndsAt: endsAt } = organization;
    const sent = new Set<string>();
    let sentNow = 0;
    if (startedAt && endsAt) {
      for (const reminder of graceReminders(startedAt, endsAt)) {
        if (reminder.dueAt > now) break;
        sent.add(reminder.kind);
        if (!(await this.claim(manager, organizationId, endsAt, reminder.kind, now))) continue;
        const membersAffected = await this.counts.affected(manager, organization, now);
        await this.audit.record(
          manager,
          NOBODY,
          {
            action: reminder.kind === 'ended' ? 'ORGANIZATION_GRACE_PERIOD_ENDED' : 'ORGANIZATION_GRACE_PERIOD_ENDING',
            organizationId,
            reason:
              reminder.kind === 'ended'
                ? 'grace period ended'
                : `grace period ends in ${reminder.leadDays} day${reminder.leadDays === 1 ? '' : 's'}`,
            details: { graceEndsAt: endsAt, daysLeft: reminder.leadDays, membersAffected },
          },
          now,
        );
        sentNow += 1;
      }
    }
    await this.organizations.update(manager, organizationId, {
      graceReminderDueAt: nextReminderDue(startedAt, endsAt, sent),
    });
    return { sent: sentNow, moved: true };
  }

  /** Inserts the reminder's row: true when this transaction claimed it, false when it was sent before. */
  private async claim(
    manager: EntityManager,
    organizationId: string,
    endsAt: Date,
    kind: string,
    now: Date,
  ): Promise<boolean> {
    const ignore = this.database.isMysql ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
    const inserted = await this.database.write(
      manager,
      `${ignore} INTO ${R.table} (${R.organization}, ${R.endsAt}, ${R.kind}, ${R.sentAt}) VALUES (?, ?, ?, ?)`,
      [organizationId, sqlTime(endsAt), kind, sqlTime(now)],
    );
    return inserted === 1;
  }
}
