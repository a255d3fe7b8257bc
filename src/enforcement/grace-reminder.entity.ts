import { Column, Entity } from 'typeorm';
import { PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';

/**
 * One reminder of one grace period, sent: the row is the claim. It is inserted
 * in the transaction that writes the reminder's audit event and outbox row, so
 * whatever the number of instances, each reminder of a grace period (the
 * organization and the grace period's end) is sent once (grace-reminders.ts).
 */
@Entity('grace_period_reminders')
export class GracePeriodReminderRecord {
  @PrimaryIdColumn({ name: 'organization_id' })
  organizationId: string;

  @Column({ name: 'grace_period_ends_at', type: 'datetime', precision: 3, primary: true })
  gracePeriodEndsAt: Date;

  /** `ending-7d`, `ending-1d`, `ended` (src/organizations/grace-period.ts). */
  @Column({ type: 'varchar', length: 16, charset: 'ascii', collation: 'ascii_bin', primary: true })
  kind: string;

  @TimestampColumn({ name: 'sent_at' })
  sentAt: Date;
}
