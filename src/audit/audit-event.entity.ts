import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimestampColumn } from '../infra/db/columns';

/** What happened, to whom, by whom. Never a code, secret or phone number. */
@Entity('audit_events')
@Index('idx_audit_events_user', ['userId', 'id'])
@Index('idx_audit_events_organization', ['organizationId', 'id'])
export class AuditEventRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin' })
  action: string;

  @IdColumn({ name: 'user_id', nullable: true })
  userId: string | null;

  @IdColumn({ name: 'organization_id', nullable: true })
  organizationId: string | null;

  @Column({ name: 'actor_id', type: 'varchar', length: 160, charset: 'ascii', collation: 'ascii_bin', nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 500, charset: 'utf8mb4', collation: 'utf8mb4_bin', nullable: true })
  reason: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin', nullable: true })
  clientIp: string | null;

  @TimestampColumn({ name: 'occurred_at' })
  occurredAt: Date;
}
