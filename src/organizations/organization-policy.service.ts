import type { EntityManager } from 'typeorm';
import type { Actor, AuditLog } from '../audit/audit-log';
import { type Caller, hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { OrganizationRecord } from '../infra/db/entities';
import type { MembershipRepository } from '../infra/db/repositories/membership.repository';
import type { OrganizationRepository } from '../infra/db/repositories/organization.repository';
import { LIMITS } from '../limits';
import { OrganizationView } from './organization.types';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How many owner ids OWNERS_WITHOUT_TWO_FACTOR names at most. */

/**
 * An organization's two-factor policy, changed by its owners.
 *
 * requireTwoFactor checks the owners and changes the policy in one transaction
 * that holds the organization's row lock from before the check: a member's
 * removal of the last factor locks the same row (TwoFactorLifecycle.assertMayTurnOff)
 * before it reads the policy, so of the two, the one that locks second sees what
 * the first did, and no owner can slip out of two-factor between check and change.
 * Only the organization row is locked here, so the lock order (user first, then
 * organizations in id order) holds.
 */
export class OrganizationPolicyService {
  constructor(
    private readonly database: Database,
    private readonly organizations: OrganizationRepository,
    private readonly memberships: MembershipRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async requireTwoFactor(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    gracePeriodDays: number | null | undefined,
  ): Promise<OrganizationView> {
    const days = gracePeriodDays ?? 0;
    if (!Number.isInteger(days) || days < 0 || days > LIMITS.maxGracePeriodDays) {
      throw badInput(`gracePeriodDays must be from 0 to ${LIMITS.maxGracePeriodDays}.`, 'gracePeriodDays');
    }
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      // Read only now, under the organization's lock: counters and memberships are as the last change left them.
      const ownersWithout = await this.memberships.ownersWithoutTwoFactor(
        manager,
        organizationId,
        LIMITS.maxIdsPerQuery,
      );
      if (ownersWithout.length > 0 || organization.ownersWithoutTwoFactor > 0) {
        throw new AppError(
          'OWNERS_WITHOUT_TWO_FACTOR',
          'Every owner of the organization must have two-factor before it can be required.',
          { userIds: ownersWithout },
        );
      }
      const now = this.clock.now();
      const gracePeriodEndsAt = days > 0 ? new Date(now.getTime() + days * DAY_MS) : null;
      if (organization.requiresTwoFactor)
        return this.setGracePeriod(manager, actor, organization, gracePeriodEndsAt, days, now);
      const changes: Partial<OrganizationRecord> = {
        requiresTwoFactor: true,
        twoFactorRequiredSince: now,
        gracePeriodEndsAt,
        updatedAt: now,
      };
      await this.organizations.update(manager, organizationId, changes);
      await this.audit.record(
        manager,
        actor,
        {
          action: 'ORGANIZATION_REQUIRED_TWO_FACTOR',
          organizationId,
          reason: days > 0 ? `grace period of ${days} days` : null,
        },
        now,
      );
      return Object.assign(organization, changes);
    });
    return this.viewFor(caller, record);
  }

  async stopRequiringTwoFactor(caller: Caller, actor: Actor, organizationId: string): Promise<OrganizationView> {
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      if (!organization.requiresTwoFactor) return organization;
      const now = this.clock.now();
      const changes: Partial<OrganizationRecord> = {
        requiresTwoFactor: false,
        twoFactorRequiredSince: null,
        gracePeriodEndsAt: null,
        updatedAt: now,
      };
      await this.organizations.update(manager, organizationId, changes);
      await this.audit.record(
        manager,
        actor,
        { action: 'ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR', organizationId },
        now,
      );
      return Object.assign(organization, changes);
    });
    return this.viewFor(caller, record);
  }

  /**
   * Already required: the grace period starts anew from now (0 days ends it now).
   * Nothing to change (0 days, none running) records nothing.
   */
  private async setGracePeriod(
    manager: EntityManager,
    actor: Actor,
    organization: OrganizationRecord,
    gracePeriodEndsAt: Date | null,
    days: number,
    now: Date,
  ): Promise<OrganizationRecord> {
    const running = organization.gracePeriodEndsAt !== null && organization.gracePeriodEndsAt > now;
    if (gracePeriodEndsAt === null && !running) return organization;
    const changes: Partial<OrganizationRecord> = { gracePeriodEndsAt, updatedAt: now };
    await this.organizations.update(manager, organization.id, changes);
    const reason = days > 0 ? `grace period of ${days} days` : 'grace period ended';
    await this.audit.record(
      manager,
      actor,
      { action: 'ORGANIZATION_GRACE_PERIOD_CHANGED', organizationId: organization.id, reason },
      now,
    );
    return Object.assign(organization, changes);
  }

  /**
   * The organization, when the caller owns it; FORBIDDEN alike when it does not
   * exist and for anyone but its owners, so nobody learns which ids exist.
   * Checked first without locks (so strangers never hold the row), then again
   * under the organization's lock.
   */
  private async requireOwner(
    manager: EntityManager,
    caller: Caller,
    organizationId: string,
    lock: boolean,
  ): Promise<OrganizationRecord> {
    const organization = lock
      ? await this.organizations.lock(manager, organizationId)
      : await this.organizations.find(manager, organizationId);
    const membership = await this.memberships.find(manager, organizationId, caller.subject);
    if (!organization || membership?.role !== 'OWNER') {
      throw new AppError('FORBIDDEN', "Only the organization's owners change its two-factor policy.");
    }
    return organization;
  }

  private viewFor(caller: Caller, record: OrganizationRecord): OrganizationView {
    return OrganizationView.of(record, hasScope(caller, 'twofactor:read') ? 'reader' : 'owner', this.clock.now());
  }
}
