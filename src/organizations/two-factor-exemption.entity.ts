import { Column, Entity, Index } from 'typeorm';
import { IdColumn, PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';

/**
 * A member exempted from the organization's two-factor requirement until
 * `endsAt` (src/enforcement/). It is in force while `endsAt` lies ahead: every
 * read compares with now, so it ends at its time without waiting for anything;
 * the row itself goes when its end has been announced (the expiry job), when an
 * owner ends it, or when the member leaves or becomes an owner. Read with the
 * membership by organizationAccess (one primary-key join).
 */
@Entity('two_factor_exemptions')
@Index('idx_exemptions_org_ends_user', ['organizationId', 'endsAt', 'userId'])
@Index('idx_exemptions_ends', ['endsAt'])
@Index('idx_exemptions_user', ['userId'])
export class TwoFactorExemptionRecord {
  @PrimaryIdColumn({ name: 'organization_id' })
  organizationId: string;

  @PrimaryIdColumn({ name: 'user_id' })
  userId: string;

  /** Plain text (src/plain-text.ts), 1 to LIMITS.maxReasonLength characters. */
  @Column({ type: 'varchar', length: 500, charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  reason: string;

  /** The user id, or service subject, that granted it. */
  @IdColumn({ name: 'granted_by' })
  grantedBy: string;

  @TimestampColumn({ name: 'granted_at' })
  grantedAt: Date;

  @TimestampColumn({ name: 'ends_at' })
  endsAt: Date;
}
