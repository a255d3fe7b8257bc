import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimestampColumn } from '../../infra/db/columns';

const ascii = { charset: 'ascii', collation: 'ascii_bin' } as const;
const text = { charset: 'utf8mb4', collation: 'utf8mb4_bin' } as const;

/** A receiver's stream (OpenID SSF 1.0 §8): what it asked for, how it takes it, and its status. */
@Entity('ssf_streams')
export class SsfStreamRecord {
  @PrimaryColumn({ type: 'varchar', length: 36, ...ascii })
  id: string;

  /** The subject of the token that made it: the stream's `aud`. */
  @IdColumn({ name: 'audience' })
  audience: string;

  /** Event type URIs, space separated (those the transmitter supports among those asked for). */
  @Column({ name: 'events_requested', type: 'varchar', length: 1024, ...ascii })
  eventsRequested: string;

  /** `push` (RFC 8935) or `poll` (RFC 8936). */
  @Column({ name: 'delivery_method', type: 'varchar', length: 8, ...ascii })
  deliveryMethod: 'push' | 'poll';

  /** A push stream's receiver URL, as the URL parser serializes it; null for poll. */
  @Column({ name: 'endpoint_url', type: 'varchar', length: 2048, ...ascii, nullable: true })
  endpointUrl: string | null;

  /** `enabled`, `paused` (events held) or `disabled` (events dropped). */
  @Column({ type: 'varchar', length: 8, ...ascii })
  status: 'enabled' | 'paused' | 'disabled';

  @Column({ name: 'status_reason', type: 'varchar', length: 255, ...text, nullable: true })
  statusReason: string | null;

  /** Every subject's events, not only those added: asked for by a token that held twofactor:read. */
  @Column({ name: 'all_subjects', type: 'boolean', default: false })
  allSubjects: boolean;

  @Column({ type: 'varchar', length: 255, ...text, nullable: true })
  description: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

/** A subject added to a stream: `user:<user id>` (iss_sub) or `tenant:<organization id>`. */
@Entity('ssf_stream_subjects')
export class SsfStreamSubjectRecord {
  @PrimaryColumn({ name: 'stream_id', type: 'varchar', length: 36, ...ascii })
  streamId: string;

  @PrimaryColumn({ type: 'varchar', length: 136, ...ascii })
  subject: string;
}

/**
 * One event for one stream, written in the change's transaction (or by a stream's
 * verification request): held until pushed, or polled and acknowledged. The SET
 * is signed when it leaves, from these columns.
 */
@Entity('ssf_queued_events')
// A stream's events, oldest first (poll; dropping a disabled stream's).
@Index('idx_ssf_queued_events_stream', ['streamId', 'id'])
// A push stream's due events.
@Index('idx_ssf_queued_events_stream_due', ['streamId', 'dueAt'])
export class SsfQueuedEventRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'stream_id', type: 'varchar', length: 36, ...ascii })
  streamId: string;

  /** Random, the same for every stream the event went to; the SET's `jti` is it and this row's id. */
  @Column({ name: 'event_id', type: 'varchar', length: 32, ...ascii })
  eventId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 128, ...ascii })
  eventType: string;

  /** The subject: a user (iss_sub), an organization (tenant), or both (complex); neither for a verification. */
  @IdColumn({ name: 'user_id', nullable: true })
  userId: string | null;

  @IdColumn({ name: 'organization_id', nullable: true })
  organizationId: string | null;

  /** The event's claims (JSON): only ids, times and the values the specifications define. */
  @Column({ type: 'text', ...text })
  claims: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  /** Push: when the next attempt is due (a claimed one: the end of its lease). */
  @TimestampColumn({ name: 'due_at' })
  dueAt: Date;

  /** Push: when the first attempt was made (the retry series' start), null before it. */
  @TimestampColumn({ name: 'first_attempt_at', nullable: true })
  firstAttemptAt: Date | null;

  /** Push attempts made. */
  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'varchar', length: 255, ...text, nullable: true })
  lastError: string | null;
}

export const SSF_ENTITIES = [SsfStreamRecord, SsfStreamSubjectRecord, SsfQueuedEventRecord];
