import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditedChanges, AuditEntry } from '../audit/audit-log';
import type { FactorActions } from '../audit/factor-actions';
import type { Actor } from '../callers/caller';
import type { Clock } from '../infra/clock';
import type { MemberState, MemberStateChanges } from '../organizations/organization-members';
import { OrganizationRecord } from '../organizations/organization.entity';
import { decideAccess } from '../organizations/organization.service';
import { type EventData, eventFromAudit, type WebhookEventType } from './event-types';
import type { WebhookRepository } from './webhook.repository';

/** A `webhook-id`: 128 random bits, the same on every attempt (receivers deduplicate by it). */
export const newWebhookId = () => `msg_${randomBytes(16).toString('base64url')}`;

/**
 * The one way a security event enters the outbox: inside the transaction of the
 * change it describes, so a rolled-back change leaves no event and a committed
 * one always has it (docs/adr/0008-webhook-outbox.md). One row per event,
 * whatever the number of endpoints, queued with the change's COMMIT; the worker
 * fans it out when it delivers (docs/adr/0019-outbox-one-row-per-event.md). No
 * row while no enabled endpoint takes the type.
 *
 * Fed by the audit log (every audited security change, mapped in
 * event-types.ts) and by OrganizationMembers (a member's access that moved).
 */
export class WebhookEventWriter implements AuditedChanges, MemberStateChanges {
  /** Told of every change too, in its transaction, before the webhook event: other signals of the one event model (Shared Signals). */
  private readonly listeners: (AuditedChanges & MemberStateChanges)[] = [];

  constructor(
    private readonly repository: WebhookRepository,
    private readonly clock: Clock,
    /** What each factor's audited actions mean (src/module.ts FactorSignals). */
    private readonly factorActions: FactorActions,
  ) {}

  /** Another signal of the same events, written in the same transaction as each change (src/signals/ssf). */
  alsoTell(listener: AuditedChanges & MemberStateChanges): void {
    this.listeners.push(listener);
  }

  async emit(manager: EntityManager, type: WebhookEventType, data: EventData, now: Date): Promise<void> {
    const payload = JSON.stringify({ type, timestamp: now.toISOString(), data });
    await this.repository.insertEvent(manager, { webhookId: newWebhookId(), type, payload, createdAt: now });
  }

  /** AuditLog.record, for every audited change: the ones the contract lists become events. */
  async recorded(manager: EntityManager, actor: Actor, entry: AuditEntry, now: Date): Promise<void> {
    for (const listener of this.listeners) await listener.recorded(manager, actor, entry, now);
    const event = eventFromAudit(actor, entry, now, this.factorActions);
    if (!event) return;
    if (event.type !== 'organization.policy_changed') return this.emit(manager, event.type, event.data, now);
    // The policy as this transaction leaves it (the audit entry is written after the change).
    const organization = await manager.findOneBy(OrganizationRecord, { id: event.organizationId });
    return this.emit(
      manager,
      event.type,
      {
        ...event.data,
        requiresTwoFactor: organization?.requiresTwoFactor ?? false,
        requiresPhishingResistant: organization?.requiresPhishingResistant ?? false,
        gracePeriodEndsAt: organization?.gracePeriodEndsAt?.toISOString() ?? null,
        allowsTrustedDevices: organization?.allowsTrustedDevices ?? true,
        acceptsIdentityProviderMfa: organization?.acceptsIdentityProviderMfa ?? false,
      },
      now,
    );
  }

  /**
   * OrganizationMembers: a membership's copy of the user's state moved, because of
   * the user's own change (a factor added or removed, two-factor on or off, an
   * admin's reset). When the member's access to that organization changed with
   * it: `organization.member_access_changed` with the access as it is now.
   */
  async changed(
    manager: EntityManager,
    userId: string,
    organization: OrganizationRecord,
    before: MemberState,
    after: MemberState,
  ): Promise<void> {
    for (const listener of this.listeners) await listener.changed(manager, userId, organization, before, after);
    const now = this.clock.now();
    const policy = {
      requiresTwoFactor: organization.requiresTwoFactor,
      requiresPhishingResistant: organization.requiresPhishingResistant,
      gracePeriodEndsAt: organization.gracePeriodEndsAt,
    };
    const was = decideAccess({ ...policy, ...before }, now);
    const is = decideAccess({ ...policy, ...after }, now);
    if (was.reason === is.reason && was.allowed === is.allowed) return;
    await this.emit(
      manager,
      'organization.member_access_changed',
      {
        userId,
        organizationId: organization.id,
        allowed: is.allowed,
        reason: is.reason,
        graceEndsAt: is.graceEndsAt?.toISOString() ?? null,
        occurredAt: now.toISOString(),
      },
      now,
    );
  }
}
