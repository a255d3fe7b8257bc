import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { SecretBinding } from '../infra/crypto/cipher';
import { CiphertextColumn, TimestampColumn } from '../infra/db/columns';

const ascii = { charset: 'ascii', collation: 'ascii_bin' } as const;

/** Both signing secrets of an endpoint (current and previous) are sealed to it: copied to another endpoint they do not open. */
export const webhookSecretBinding = (endpointId: string): SecretBinding => ({
  purpose: 'webhook-secret',
  row: endpointId,
});

/** Where security events go: an https URL an admin registered, and its signing secret (encrypted). */
@Entity('webhook_endpoints')
export class WebhookEndpointRecord {
  @PrimaryColumn({ type: 'varchar', length: 36, ...ascii })
  id: string;

  /** As the URL parser serializes it (ASCII: punycode host, percent-encoded path). */
  @Column({ type: 'varchar', length: 2048, ...ascii })
  url: string;

  /** Comma separated; empty: every type. */
  @Column({ name: 'event_types', type: 'varchar', length: 1024, ...ascii })
  eventTypes: string;

  @Column({ type: 'boolean' })
  enabled: boolean;

  /** Why the service disabled it (it answered 410); null when enabled or disabled by hand. */
  @Column({
    name: 'disabled_reason',
    type: 'varchar',
    length: 255,
    charset: 'utf8mb4',
    collation: 'utf8mb4_bin',
    nullable: true,
  })
  disabledReason: string | null;

  /** `whsec_…`, encrypted (SecretBox), sealed to the endpoint (webhookSecretBinding). */
  @CiphertextColumn({ name: 'secret_ciphertext' })
  secretCiphertext: string;

  /** The secret before the last rotation: it signs beside the new one until it expires. */
  @CiphertextColumn({ name: 'previous_secret_ciphertext', nullable: true })
  previousSecretCiphertext: string | null;

  @TimestampColumn({ name: 'previous_secret_expires_at', nullable: true })
  previousSecretExpiresAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

/**
 * Rows that transactions lock to run one at a time on every instance
 * (SELECT ... FOR UPDATE needs a row that exists): `endpoints` is held while an
 * endpoint is created, so the endpoints are counted and added atomically.
 */
@Entity('webhook_locks')
export class WebhookLockRecord {
  @PrimaryColumn({ type: 'varchar', length: 32, ...ascii })
  name: string;
}

/**
 * The outbox: one row per security event, whatever the number of endpoints,
 * written in the transaction of the change it describes while an enabled
 * endpoint takes its type. `payload` is the body exactly as sent, so every
 * attempt signs the same bytes. The worker fans it out to the endpoints when it
 * delivers (docs/adr/0019-outbox-one-row-per-event.md).
 */
@Entity('webhook_events')
@Index('idx_webhook_events_created', ['createdAt'])
// The events still to fan out, oldest first.
@Index('idx_webhook_events_fan_out', ['fannedOut', 'id'])
export class WebhookEventRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  /** The `webhook-id` header: random, the same on every attempt to every endpoint. */
  @Column({ name: 'webhook_id', type: 'varchar', length: 64, ...ascii })
  webhookId: string;

  @Column({ type: 'varchar', length: 64, ...ascii })
  type: string;

  @Column({ type: 'text', charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  payload: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  /**
   * Whether a worker has made its deliveries: set, per row, in the transaction
   * that inserts them. Per row, not a cursor: an event whose change commits after
   * a later one was fanned out is still found.
   */
  @Column({ name: 'fanned_out', type: 'boolean', default: false })
  fannedOut: boolean;
}

/**
 * One event to one endpoint: the delivery queue, made by the worker's fan-out
 * (claimed at once where the endpoint has room). Due when PENDING and
 * `next_attempt_at` has come; a worker claims it by moving `next_attempt_at` to
 * the end of its lease and setting `lease_token` (docs/adr/0008-webhook-outbox.md).
 */
@Entity('webhook_deliveries')
// Claimed per endpoint (each takes its own slots): the due ones of one endpoint, oldest first.
@Index('idx_webhook_deliveries_endpoint_due', ['state', 'endpointId', 'nextAttemptAt'])
@Index('idx_webhook_deliveries_state_created', ['state', 'createdAt'])
@Index('idx_webhook_deliveries_endpoint', ['endpointId', 'id'])
@Index('idx_webhook_deliveries_endpoint_state', ['endpointId', 'state', 'id'])
// One delivery per event and endpoint; outcomes are recorded by this key (a fan-out's rows are not read back).
@Index('idx_webhook_deliveries_event_endpoint', ['eventId', 'endpointId'], { unique: true })
export class WebhookDeliveryRecord {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'event_id', type: 'bigint' })
  eventId: string;

  @Column({ name: 'endpoint_id', type: 'varchar', length: 36, ...ascii })
  endpointId: string;

  /** PENDING, DELIVERED or FAILED. */
  @Column({ type: 'varchar', length: 10, ...ascii })
  state: string;

  /** Attempts of the current series (a retry by hand starts a new one). */
  @Column({ type: 'int' })
  attempts: number;

  @Column({ name: 'last_status', type: 'smallint', nullable: true })
  lastStatus: number | null;

  @Column({
    name: 'last_error',
    type: 'varchar',
    length: 300,
    charset: 'utf8mb4',
    collation: 'utf8mb4_bin',
    nullable: true,
  })
  lastError: string | null;

  /** When PENDING: when it is due (or, while claimed, when the claim lapses). Null once final. */
  @TimestampColumn({ name: 'next_attempt_at', nullable: true })
  nextAttemptAt: Date | null;

  /** The claim that sends it now (or last did): an outcome counts only with the claim's token. */
  @Column({ name: 'lease_token', type: 'varchar', length: 36, ...ascii, nullable: true })
  leaseToken: string | null;

  /** The first attempt of the current series is due at this; it gives up 3 days later. */
  @TimestampColumn({ name: 'series_started_at' })
  seriesStartedAt: Date;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'delivered_at', nullable: true })
  deliveredAt: Date | null;
}

export const WEBHOOK_ENTITIES = [WebhookEndpointRecord, WebhookLockRecord, WebhookEventRecord, WebhookDeliveryRecord];
