import type { EntityManager } from 'typeorm';
import type { Actor, AuditLog } from '../audit/audit-log';
import { AppError } from '../errors';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { MembershipRepository } from '../infra/db/repositories/membership.repository';
import type { OrganizationRepository } from '../infra/db/repositories/organization.repository';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { FactorRepository } from '../infra/db/repositories/factor.repository';
import type { AuditEventRepository } from '../infra/db/repositories/audit-event.repository';
import type { OrganizationRole } from '../organizations/organization-role';
import { Membership, OrganizationView } from '../organizations/organization.types';
import type { OrganizationRecord } from '../infra/db/entities';
import { parsePlainText } from '../plain-text';

/** The organizations.name column's length. */
const MAX_NAME_LENGTH = 255;

/**
 * Directory sync: the upstream system is the source of truth for organizations
 * and memberships; this keeps our copy (and its maintained counts) in step.
 *
 * Locks are taken user first, then organizations in id order: the same order
 * as every two-factor change, so no two transactions wait on each other.
 */
export class DirectoryService {
  constructor(
    private readonly database: Database,
    private readonly users: UserRepository,
    private readonly organizations: OrganizationRepository,
    private readonly memberships: MembershipRepository,
    private readonly factors: FactorRepository,
    private readonly auditEvents: AuditEventRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async upsertOrganization(actor: Actor, id: string, name: string): Promise<OrganizationView> {
    const trimmed = parsePlainText(name, 'name', MAX_NAME_LENGTH);
    const record = await this.database.transaction(async (manager) => {
      const now = this.clock.now();
      const existing = await this.organizations.lock(manager, id);
      if (!existing) {
        // Its creation's event first: its owners see the events from that one on (not a deleted namesake's).
        const created = await this.audit.record(manager, actor, { action: 'ORGANIZATION_UPSERTED', organizationId: id }, now);
        await this.organizations.insert(manager, id, trimmed, now, created);
      } else {
        await this.organizations.update(manager, id, { name: trimmed, updatedAt: now });
        if (existing.name !== trimmed) await this.audit.record(manager, actor, { action: 'ORGANIZATION_UPSERTED', organizationId: id }, now);
      }
      return (await this.organizations.find(manager, id))!;
    });
    return OrganizationView.of(record, 'member', this.clock.now());
  }

  async setMembership(actor: Actor, organizationId: string, userId: string, role: OrganizationRole): Promise<Membership> {
    const organization = await this.database.transaction(async (manager) => {
      const now = this.clock.now();
      const user = await this.users.lock(manager, userId, now);
      const organization = await this.requireOrganization(manager, organizationId);
      const existing = await this.memberships.find(manager, organizationId, userId);
      if (existing?.role === role) return organization;
      const twoFactorEnabled = user.twoFactorEnabled;
      await this.memberships.save(manager, { organizationId, userId, role, twoFactorEnabled, createdAt: existing?.createdAt ?? now });
      await this.organizations.moveMember(manager, organizationId, existing && { role: existing.role, twoFactorEnabled: existing.twoFactorEnabled }, { role, twoFactorEnabled });
      await this.audit.record(manager, actor, { action: 'MEMBERSHIP_SET', organizationId, userId, reason: role }, now);
      return (await this.organizations.find(manager, organizationId))!;
    });
    return Object.assign(new Membership(), { organization: OrganizationView.of(organization, 'member', this.clock.now()), role });
  }

  async removeMembership(actor: Actor, organizationId: string, userId: string): Promise<boolean> {
    return this.database.transaction(async (manager) => {
      const now = this.clock.now();
      await this.users.lock(manager, userId, now);
      await this.requireOrganization(manager, organizationId);
      const existing = await this.memberships.find(manager, organizationId, userId);
      if (!existing) return false;
      await this.memberships.delete(manager, organizationId, userId);
      await this.organizations.moveMember(manager, organizationId, existing, null);
      await this.audit.record(manager, actor, { action: 'MEMBERSHIP_REMOVED', organizationId, userId }, now);
      return true;
    });
  }

  async deleteOrganization(actor: Actor, id: string): Promise<boolean> {
    return this.database.transaction(async (manager) => {
      const now = this.clock.now();
      if (!(await this.organizations.lock(manager, id))) return false;
      await this.memberships.deleteByOrganization(manager, id);
      await this.organizations.delete(manager, id);
      await this.audit.record(manager, actor, { action: 'ORGANIZATION_DELETED', organizationId: id }, now);
      return true;
    });
  }

  /** Erases the user: factors, codes, memberships; audit events keep only the ids. */
  async deleteUser(actor: Actor, userId: string): Promise<boolean> {
    return this.database.transaction(async (manager) => {
      const now = this.clock.now();
      const existed = (await this.users.find(manager, userId)) !== null;
      await this.users.lock(manager, userId, now);
      const memberships = await this.memberships.findByUser(manager, userId);
      await this.organizations.lockMany(manager, memberships.map((m) => m.organizationId));
      for (const membership of memberships) {
        await this.organizations.moveMember(manager, membership.organizationId, membership, null);
      }
      await this.memberships.deleteByUser(manager, userId);
      await this.factors.deleteAllOf(manager, userId);
      await this.users.delete(manager, userId);
      await this.auditEvents.anonymizeUser(manager, userId);
      await this.audit.record(manager, { actorId: actor.actorId, clientIp: null }, { action: 'USER_DELETED', userId }, now);
      return existed || memberships.length > 0;
    });
  }

  private async requireOrganization(manager: EntityManager, id: string): Promise<OrganizationRecord> {
    const organization = await this.organizations.lock(manager, id);
    if (!organization) throw new AppError('NOT_FOUND', `No organization ${id}.`);
    return organization;
  }
}
