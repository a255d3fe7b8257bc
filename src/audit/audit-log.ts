import type { EntityManager } from 'typeorm';
import type { Actor } from '../callers/caller';
import type { AuditEventRepository } from './audit-event.repository';

export type AuditAction =
  | 'TOTP_ENABLED'
  | 'TOTP_REMOVED'
  | 'SMS_ENABLED'
  | 'SMS_REMOVED'
  | 'SMS_SENT'
  | 'WEBAUTHN_CREDENTIAL_ADDED'
  | 'WEBAUTHN_CREDENTIAL_RENAMED'
  | 'WEBAUTHN_CREDENTIAL_REMOVED'
  | 'WEBAUTHN_CLONE_SUSPECTED'
  | 'TWO_FACTOR_ENABLED'
  | 'TWO_FACTOR_DISABLED'
  | 'RECOVERY_CODE_USED'
  | 'RECOVERY_CODES_VIEWED'
  | 'RECOVERY_CODES_REGENERATED'
  | 'CODE_CHECK_FAILED'
  | 'TWO_FACTOR_LOCKED'
  | 'LOGIN_VERIFIED'
  | 'LOGIN_FAILED'
  | 'TRUSTED_DEVICE_ADDED'
  | 'TRUSTED_DEVICE_USED'
  | 'TRUSTED_DEVICE_REVOKED'
  | 'TRUSTED_DEVICES_REVOKED'
  | 'ORGANIZATION_REQUIRED_TWO_FACTOR'
  | 'ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR'
  | 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT'
  | 'ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT'
  | 'ORGANIZATION_GRACE_PERIOD_CHANGED'
  | 'ORGANIZATION_ALLOWED_TRUSTED_DEVICES'
  | 'ORGANIZATION_FORBADE_TRUSTED_DEVICES'
  | 'ORGANIZATION_UPSERTED'
  | 'ORGANIZATION_DELETED'
  | 'MEMBERSHIP_SET'
  | 'MEMBERSHIP_REMOVED'
  | 'USER_DELETED'
  | 'TWO_FACTOR_RESET_BY_ADMIN'
  | 'WEBHOOK_ENDPOINT_CREATED'
  | 'WEBHOOK_ENDPOINT_UPDATED'
  | 'WEBHOOK_ENDPOINT_DISABLED'
  | 'WEBHOOK_SECRET_ROTATED'
  | 'WEBHOOK_ENDPOINT_DELETED'
  | 'WEBHOOK_DELIVERY_RETRIED';

export interface AuditEntry {
  action: AuditAction;
  userId?: string | null;
  organizationId?: string | null;
  /** The reason an admin gave, or why an attempt failed. Never a code. */
  reason?: string | null;
  /** For the webhook event only (not stored in the audit log): what the factor shows of itself. */
  details?: { phoneNumberMasked?: string };
}

/** Turns audited changes into webhook events in the same transaction (webhooks/event-writer.ts). */
export interface AuditedChanges {
  recorded(manager: EntityManager, actor: Actor, entry: AuditEntry, now: Date): Promise<void>;
}

/**
 * Writes audit events inside the caller's transaction, so an event exists exactly
 * when its change does; the security changes among them also go to the webhook
 * outbox there (`changes`), in the same transaction.
 */
export class AuditLog {
  constructor(
    private readonly events: AuditEventRepository,
    private readonly changes?: AuditedChanges,
  ) {}

  /** Queued with the transaction's COMMIT (ADR 0013). */
  async record(manager: EntityManager, actor: Actor, entry: AuditEntry, now: Date): Promise<void> {
    await this.events.insert(manager, row(actor, entry, now));
    await this.changes?.recorded(manager, actor, entry, now);
  }

  /** The same, written at once: for a change that keeps the event's id. */
  async recordReturningId(manager: EntityManager, actor: Actor, entry: AuditEntry, now: Date): Promise<string> {
    const id = await this.events.insertReturningId(manager, row(actor, entry, now));
    await this.changes?.recorded(manager, actor, entry, now);
    return id;
  }
}

const row = (actor: Actor, entry: AuditEntry, now: Date) => ({
  action: entry.action,
  userId: entry.userId ?? null,
  organizationId: entry.organizationId ?? null,
  actorId: actor.actorId,
  reason: entry.reason?.slice(0, 500) ?? null,
  clientIp: actor.clientIp,
  occurredAt: now,
});
