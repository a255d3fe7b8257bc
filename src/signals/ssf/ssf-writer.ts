import type { EntityManager } from 'typeorm';
import type { AuditedChanges, AuditEntry } from '../../audit/audit-log';
import type { FactorActions } from '../../audit/factor-actions';
import type { Actor } from '../../callers/caller';
import type { Clock } from '../../infra/clock';
import { MembershipRecord } from '../../organizations/membership.entity';
import type { MembershipRepository } from '../../organizations/membership.repository';
import type { MemberState, MemberStateChanges } from '../../organizations/organization-members';
import { OrganizationRecord } from '../../organizations/organization.entity';
import { decideAccess } from '../../organizations/organization.service';
import { TwoFactorExemptionRecord } from '../../organizations/two-factor-exemption.entity';
import { caepEventsOf, credentialChangeRequired, RISC_CREDENTIAL_CHANGE_REQUIRED, type SsfEvent } from './ssf-events';
import type { SsfRepository } from './ssf.repository';

/**
 * The Shared Signals side of the outbox: told of every audited change and every
 * member whose access moved by the webhook outbox's writer, inside the change's
 * transaction (WebhookEventWriter.alsoTell), it queues each stream's events in
 * that same transaction: a rolled-back change leaves none, a committed one
 * always has them (docs/adr/0023-shared-signals-transmitter.md).
 */
export class SsfEventWriter implements AuditedChanges, MemberStateChanges {
  constructor(
    private readonly repository: SsfRepository,
    private readonly factorActions: FactorActions,
    private readonly memberships: Pick<MembershipRepository, 'accessFacts'>,
    private readonly clock: Clock,
  ) {}

  async recorded(manager: EntityManager, actor: Actor, entry: AuditEntry, now: Date): Promise<void> {
    const factor = this.factorActions.describe(entry.action);
    const change = factor?.change === 'added' || factor?.change === 'removed' ? factor.change : null;
    if (factor && !change) return;
    for (const event of caepEventsOf(actor, entry, change, now)) await this.queue(manager, event, now);

    if (entry.action === 'TWO_FACTOR_EXEMPTION_ENDED' && entry.userId && entry.organizationId) {
      // The requirement refuses the member now that the exemption is gone (the row is deleted before the audit).
      if (!(await this.repository.anyStreamTakes(manager, RISC_CREDENTIAL_CHANGE_REQUIRED))) return;
      const facts = await this.memberships.accessFacts(manager, entry.organizationId, entry.userId);
      if (facts && !decideAccess({ ...facts, exemptUntil: null }, now).allowed) {
        await this.queue(manager, credentialChangeRequired(entry.userId, entry.organizationId), now);
      }
    }
    if (entry.action === 'ORGANIZATION_GRACE_PERIOD_ENDED' && entry.organizationId) {
      if (!(await this.repository.anyStreamTakes(manager, RISC_CREDENTIAL_CHANGE_REQUIRED))) return;
      for (const userId of await this.refusedMembers(manager, entry.organizationId, now)) {
        await this.queue(manager, credentialChangeRequired(userId, entry.organizationId), now);
      }
    }
  }

  /** A member's own change moved its access: refused now where it was let in, RISC asks for a credential change. */
  async changed(
    manager: EntityManager,
    userId: string,
    organization: OrganizationRecord,
    before: MemberState,
    after: MemberState,
  ): Promise<void> {
    const now = this.clock.now();
    const policy = {
      requiresTwoFactor: organization.requiresTwoFactor,
      requiresPhishingResistant: organization.requiresPhishingResistant,
      gracePeriodEndsAt: organization.gracePeriodEndsAt,
    };
    const was = decideAccess({ ...policy, ...before }, now);
    const is = decideAccess({ ...policy, ...after }, now);
    if (was.allowed && !is.allowed) await this.queue(manager, credentialChangeRequired(userId, organization.id), now);
  }

  private queue(manager: EntityManager, event: SsfEvent, now: Date): Promise<void> {
    return this.repository.queueEvent(manager, event, now);
  }

  /** The members an organization's requirement refuses once its grace period ended: without an accepted factor, not exempt. */
  private async refusedMembers(manager: EntityManager, organizationId: string, now: Date): Promise<string[]> {
    const organization = await manager.findOneBy(OrganizationRecord, { id: organizationId });
    if (!organization?.requiresTwoFactor) return [];
    const members = await manager.findBy(
      MembershipRecord,
      organization.requiresPhishingResistant
        ? { organizationId, phishingResistant: false }
        : { organizationId, twoFactorEnabled: false },
    );
    if (members.length === 0) return [];
    const exempt = new Set(
      (await manager.findBy(TwoFactorExemptionRecord, { organizationId }))
        .filter((exemption) => exemption.endsAt > now)
        .map((exemption) => exemption.userId),
    );
    return members
      .filter((member) => !exempt.has(member.userId))
      .filter(
        (member) =>
          !decideAccess(
            {
              requiresTwoFactor: organization.requiresTwoFactor,
              requiresPhishingResistant: organization.requiresPhishingResistant,
              gracePeriodEndsAt: organization.gracePeriodEndsAt,
              twoFactorEnabled: member.twoFactorEnabled,
              phishingResistant: member.phishingResistant,
            },
            now,
          ).allowed,
      )
      .map((member) => member.userId);
  }
}
