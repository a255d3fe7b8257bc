import type { EntityManager } from 'typeorm';
import type { Actor } from '../callers/caller';
import type { AuditEventRepository } from './audit-event.repository';

/**
 * Every audited action. The service's own are declared here; a second factor's
 * in its folder (declaration merging: `declare module '.../audit/audit-log' {
 * interface AuditActions { ... } }`), with what they mean to the signals
 * (src/module.ts FactorSignals), so adding a factor touches no list here.
 */
export interface AuditActions {
  TWO_FACTOR_ENABLED: 'service';
  TWO_FACTOR_DISABLED: 'service';
  CODE_CHECK_FAILED: 'service';
  TWO_FACTOR_LOCKED: 'service';
  LOGIN_VERIFIED: 'service';
  LOGIN_FAILED: 'service';
  TRUSTED_DEVICE_ADDED: 'service';
  TRUSTED_DEVICE_USED: 'service';
  TRUSTED_DEVICE_REVOKED: 'service';
  TRUSTED_DEVICES_REVOKED: 'service';
  ORGANIZATION_REQUIRED_TWO_FACTOR: 'service';
  ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR: 'service';
  ORGANIZATION_REQUIRED_PHISHING_RESISTANT: 'service';
  ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT: 'service';
  ORGANIZATION_GRACE_PERIOD_CHANGED: 'service';
  ORGANIZATION_ALLOWED_TRUSTED_DEVICES: 'service';
  ORGANIZATION_FORBADE_TRUSTED_DEVICES: 'service';
  ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA: 'service';
  ORGANIZATION_STOPPED_ACCEPTING_IDENTITY_PROVIDER_MFA: 'service';
  ORGANIZATION_SET_AUTHENTICATOR_POLICY: 'service';
  ORGANIZATION_UPSERTED: 'service';
  ORGANIZATION_DELETED: 'service';
  MEMBERSHIP_SET: 'service';
  MEMBERSHIP_REMOVED: 'service';
  USER_DELETED: 'service';
  TWO_FACTOR_RESET_BY_ADMIN: 'service';
  WEBHOOK_ENDPOINT_CREATED: 'service';
  WEBHOOK_ENDPOINT_UPDATED: 'service';
  WEBHOOK_ENDPOINT_DISABLED: 'service';
  WEBHOOK_SECRET_ROTATED: 'service';
  WEBHOOK_ENDPOINT_DELETED: 'service';
  WEBHOOK_DELIVERY_RETRIED: 'service';
}

export type AuditAction = keyof AuditActions;
/** The service's own actions (not a factor's). */
export type ServiceAuditAction = { [A in AuditAction]: AuditActions[A] extends 'service' ? A : never }[AuditAction];

export interface AuditEntry {
  action: AuditAction;
  userId?: string | null;
  organizationId?: string | null;
  /** The reason an admin gave, or why an attempt failed. Never a code. */
  reason?: string | null;
  /** For the webhook event only (not stored in the audit log): what the factor shows of itself, or what enforcement says. */
  details?: {
    phoneNumberMasked?: string;
    /** An exemption's end (granted, or ended), and why it ended (src/enforcement/exemptions.ts). */
    exemptUntil?: Date;
    exemptionEnded?: 'ended' | 'expired' | 'left' | 'became_owner';
    /** A grace period's reminder: when it ends, days left, and the members its requirement refuses (or will). */
    graceEndsAt?: Date;
    daysLeft?: number;
    membersAffected?: number;
    /** The CAEP credential types the change is about (Shared Signals), read while the credentials existed. */
    credentialTypes?: readonly string[];
  };
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
