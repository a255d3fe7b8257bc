import type { EntityManager } from 'typeorm';
import type { AuditEventRepository } from '../audit/audit-event.repository';
import type { AuditLog } from '../audit/audit-log';
import type { Actor } from '../callers/caller';
import { AppError } from '../errors';
import type { TwoFactorLifecycle } from '../factors/two-factor-lifecycle';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { MembershipRepository } from '../organizations/membership.repository';
import type { OrganizationRole } from '../organizations/organization-role';
import { type OrganizationRecord } from '../organizations/organization.entity';
import type { OrganizationRepository } from '../organizations/organization.repository';
import { Membership, OrganizationView } from '../organizations/organization.types';
import { parsePlainText } from '../plain-text';
import type { UserRepository } from '../users/user.repository';
import { OrganizationDeletionRecord } from './organization-deletion.entity';
import type { OrganizationPurge } from './organization-purge';

/** The organizations.name column's length. */
const MAX_NAME_LENGTH = 255;

/** What a membership's change means for the member's exemption (src/enforcement/exemptions.ts). */
export interface MemberExemptions {
  /** Inside the change's transaction, after the user's and the organization's locks: `role` null when the member left. */
  memberChanged(
    manager: EntityManager,
    actor: Actor,
    organizationId: string,
    userId: string,
    role: 'OWNER' | 'MEMBER' | null,
    now: Date,
  ): Promise<void>;
}

export interface DirectoryServiceDependencies {
  database: Database;
  users: UserRepository;
  organizations: OrganizationRepository;
  memberships: MembershipRepository;
  lifecycle: TwoFactorLifecycle;
  auditEvents: AuditEventRepository;
  audit: AuditLog;
  exemptions: MemberExemptions;
  clock: Clock;
  purge: OrganizationPurge;
  /** Asks the background purge to run now (it also runs on its own schedule). */
  purgeSoon: () => void;
}

/**
 * Directory sync: the upstream system is the source of truth for organizations
 * and memberships; this keeps our copy (and its maintained counts) in step.
 *
 * Locks are taken user first, then organizations in id order: the same order
 * as every two-factor change, so no two transactions wait on each other.
 */
export class DirectoryService {
  constructor(private readonly deps: DirectoryServiceDependencies) {}

  async upsertOrganization(actor: Actor, id: string, name: string): Promise<OrganizationView> {
    const trimmed = parsePlainText(name, 'name', MAX_NAME_LENGTH);
    // Re-created under a deleted one's id: that one's memberships go first, so none come back.
    if (
      await this.deps.database.run((manager) => manager.existsBy(OrganizationDeletionRecord, { organizationId: id }))
    ) {
      await this.deps.purge.finish(id);
    }
    const record = await this.deps.database.transaction(async (manager) => {
      const now = this.deps.clock.now();
      const existing = await this.deps.organizations.lock(manager, id);
      if (!existing) {
        // Its creation's event first: its owners see the events from that one on (not a deleted namesake's).
        const created = await this.deps.audit.recordReturningId(
          manager,
          actor,
          { action: 'ORGANIZATION_UPSERTED', organizationId: id },
          now,
        );
        await this.deps.organizations.insert(manager, id, trimmed, now, created);
      } else {
        await this.deps.organizations.update(manager, id, { name: trimmed, updatedAt: now });
        if (existing.name !== trimmed)
          await this.deps.audit.record(manager, actor, { action: 'ORGANIZATION_UPSERTED', organizationId: id }, now);
      }
      return (await this.deps.organizations.find(manager, id))!;
    });
    return OrganizationView.of(record, 'member', this.deps.clock.now());
  }

  async setMembership(
    actor: Actor,
    organizationId: string,
    userId: string,
    role: OrganizationRole,
  ): Promise<Membership> {
    const organization = await this.deps.database.transaction(async (manager) => {
      const now = this.deps.clock.now();
      const user = await this.deps.users.lock(manager, userId, now);
      const organization = await this.requireOrganization(manager, organizationId);
      const existing = await this.deps.memberships.find(manager, organizationId, userId);
      if (existing?.role === role) return organization;
      // The new membership copies the user's state; the counters move from what the old one counted.
      const { twoFactorEnabled, phishingResistant, keySetId } = user;
      await this.deps.memberships.save(manager, {
        organizationId,
        userId,
        role,
        twoFactorEnabled,
        phishingResistant,
        keySetId,
        createdAt: existing?.createdAt ?? now,
      });
      await this.deps.organizations.moveMember(manager, organizationId, existing, {
        role,
        twoFactorEnabled,
        phishingResistant,
        keySetId,
      });
      await this.deps.audit.record(
        manager,
        actor,
        { action: 'MEMBERSHIP_SET', organizationId, userId, reason: role },
        now,
      );
      await this.deps.exemptions.memberChanged(manager, actor, organizationId, userId, role, now);
      return (await this.deps.organizations.find(manager, organizationId))!;
    });
    return Object.assign(new Membership(), {
      organization: OrganizationView.of(organization, 'member', this.deps.clock.now()),
      role,
      userId,
    });
  }

  async removeMembership(actor: Actor, organizationId: string, userId: string): Promise<boolean> {
    return this.deps.database.transaction(async (manager) => {
      const now = this.deps.clock.now();
      await this.deps.users.lock(manager, userId, now);
      await this.requireOrganization(manager, organizationId);
      const existing = await this.deps.memberships.find(manager, organizationId, userId);
      if (!existing) return false;
      await this.deps.memberships.delete(manager, organizationId, userId);
      await this.deps.organizations.moveMember(manager, organizationId, existing, null);
      await this.deps.audit.record(manager, actor, { action: 'MEMBERSHIP_REMOVED', organizationId, userId }, now);
      await this.deps.exemptions.memberChanged(manager, actor, organizationId, userId, null, now);
      return true;
    });
  }

  /**
   * The organization disappears from every read when this commits; its
   * memberships go in the background, in batches (OrganizationPurge), so a
   * million members never hold one long transaction.
   */
  async deleteOrganization(actor: Actor, id: string): Promise<boolean> {
    const deleted = await this.deps.database.transaction(async (manager) => {
      const now = this.deps.clock.now();
      if (!(await this.deps.organizations.lock(manager, id))) return false;
      await this.deps.organizations.delete(manager, id);
      await manager.upsert(OrganizationDeletionRecord, { organizationId: id, deletedAt: now }, ['organizationId']);
      await this.deps.audit.record(manager, actor, { action: 'ORGANIZATION_DELETED', organizationId: id }, now);
      return true;
    });
    if (deleted) this.deps.purgeSoon();
    return deleted;
  }

  /** Erases the user: factors, codes, trusted devices, memberships; audit events keep only the ids. */
  async deleteUser(actor: Actor, userId: string): Promise<boolean> {
    return this.deps.database.transaction(async (manager) => {
      const now = this.deps.clock.now();
      const existed = (await this.deps.users.find(manager, userId)) !== null;
      await this.deps.users.lock(manager, userId, now);
      const memberships = await this.deps.memberships.findByUser(manager, userId);
      await this.deps.organizations.lockMany(
        manager,
        memberships.map((m) => m.organizationId),
      );
      for (const membership of memberships) {
        await this.deps.organizations.moveMember(manager, membership.organizationId, membership, null);
        await this.deps.exemptions.memberChanged(manager, actor, membership.organizationId, userId, null, now);
      }
      await this.deps.memberships.deleteByUser(manager, userId);
      await this.deps.lifecycle.removeEverything(manager, userId);
      await this.deps.lifecycle.revokeTrustedDevices(manager, actor, userId, now, 'user deleted');
      await this.deps.users.delete(manager, userId);
      await this.deps.auditEvents.anonymizeUser(manager, userId);
      await this.deps.audit.record(
        manager,
        { actorId: actor.actorId, clientIp: null },
        { action: 'USER_DELETED', userId },
        now,
      );
      return existed || memberships.length > 0;
    });
  }

  private async requireOrganization(manager: EntityManager, id: string): Promise<OrganizationRecord> {
    const organization = await this.deps.organizations.lock(manager, id);
    if (!organization) throw new AppError('NOT_FOUND', `No organization ${id}.`);
    return organization;
  }
}
