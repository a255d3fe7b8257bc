import type { EntityManager } from 'typeorm';
import type { AuditEntry, AuditLog } from '../audit/audit-log';
import type { Actor, Caller } from '../callers/caller';
import { badInput } from '../errors';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import type { MembershipRepository } from '../organizations/membership.repository';
import type { OrganizationRepository } from '../organizations/organization.repository';
import { requireOwner } from '../organizations/owner-check';
import { TwoFactorExemptionRecord } from '../organizations/two-factor-exemption.entity';
import { parsePlainText } from '../plain-text';
import type { UserRepository } from '../users/user.repository';
import type { ExemptionRepository } from './exemption.repository';

const OWNERS_ONLY = "Only the organization's owners exempt its members.";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Why an exemption ended, as its event says (`data.ended`) and its audit event's reason in words. */
export type ExemptionEnd = NonNullable<NonNullable<AuditEntry['details']>['exemptionEnded']>;
const ENDED_BECAUSE: Record<ExemptionEnd, string> = {
  ended: 'ended by an owner',
  expired: 'ran out',
  left: 'the member left the organization',
  became_owner: 'the member became an owner',
};

/** The system's own actor: an exemption that ran out was ended by nobody. */
const NOBODY: Actor = { actorId: null, clientIp: null };

/**
 * Exemptions from an organization's two-factor requirement (contract README,
 * "Enforcement"; docs/adr/0020-requiring-as-a-lifecycle.md). An owner grants one
 * to a member who is not an owner, for at most LIMITS.maxExemptionDays, with a
 * reason; it is in force while its end lies ahead (every read compares with
 * now), and ends by itself, by endTwoFactorExemption, when the member leaves,
 * or when the member becomes an owner; every end is audited and sent once.
 *
 * Lock order (docs/adr/0002-lock-order.md): the member's user row, then the
 * organization's; directory sync takes the same two before it changes a
 * membership and ends the exemption there (memberChanged), so a grant and a
 * promotion to owner serialize: the grant either comes first (and the promotion
 * ends it) or sees an owner and is refused. The job that ends exemptions that
 * ran out locks only their rows, skipping those another transaction holds.
 */
export class Exemptions {
  constructor(
    private readonly database: Database,
    private readonly exemptions: ExemptionRepository,
    private readonly organizations: OrganizationRepository,
    private readonly memberships: MembershipRepository,
    private readonly users: UserRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** exemptFromTwoFactor: grants, or replaces, the member's exemption until `until`. */
  async grant(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    userId: string,
    until: Date,
    reasonText: string,
  ): Promise<TwoFactorExemptionRecord> {
    const reason = parsePlainText(reasonText, 'reason', LIMITS.maxReasonLength);
    this.checkUntil(until);
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    if (userId === caller.subject) throw notAnOwner('An owner cannot exempt itself: owners are never exempt.');
    return this.database.transaction(async (manager) => {
      const now = this.clock.now();
      // The member's exemption is decided under its user row's lock, then the organization's.
      await this.users.lock(manager, userId, now);
      await this.requireOwner(manager, caller, organizationId, true);
      this.checkUntil(until);
      const membership = await this.memberships.find(manager, organizationId, userId);
      if (!membership) throw badInput(`${userId} is not a member of the organization.`, 'userId');
      if (membership.role === 'OWNER') throw notAnOwner('Owners are never exempt from the requirement.');
      const existing = await this.exemptions.find(manager, organizationId, userId, true);
      // One that ran out and was not announced yet is announced now, before it is replaced.
      if (existing && existing.endsAt <= now) await this.announceEnd(manager, NOBODY, existing, 'expired', now);
      const exemption = Object.assign(new TwoFactorExemptionRecord(), {
        organizationId,
        userId,
        reason,
        grantedBy: caller.subject,
        grantedAt: now,
        endsAt: until,
      });
      await this.exemptions.save(manager, exemption);
      await this.audit.record(
        manager,
        actor,
        { action: 'TWO_FACTOR_EXEMPTION_GRANTED', organizationId, userId, reason, details: { exemptUntil: until } },
        now,
      );
      return exemption;
    });
  }

  /** endTwoFactorExemption: ends the member's exemption now; false when none was in force. */
  async end(caller: Caller, actor: Actor, organizationId: string, userId: string): Promise<boolean> {
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    return this.database.transaction(async (manager) => {
      const now = this.clock.now();
      await this.users.lock(manager, userId, now);
      await this.requireOwner(manager, caller, organizationId, true);
      const existing = await this.exemptions.find(manager, organizationId, userId, true);
      if (!existing) return false;
      await this.exemptions.delete(manager, organizationId, userId);
      const inForce = existing.endsAt > now;
      await this.announceEnd(manager, inForce ? actor : NOBODY, existing, inForce ? 'ended' : 'expired', now);
      return inForce;
    });
  }

  /**
   * Directory sync, inside its transaction, after it locked the user and the
   * organization: the member left (`role` null) or its role is now `role`. An
   * exemption does not outlive the membership, nor a promotion to owner.
   */
  async memberChanged(
    manager: EntityManager,
    actor: Actor,
    organizationId: string,
    userId: string,
    role: 'OWNER' | 'MEMBER' | null,
    now: Date,
  ): Promise<void> {
    if (role === 'MEMBER') return;
    const existing = await this.exemptions.find(manager, organizationId, userId, true);
    if (!existing) return;
    await this.exemptions.delete(manager, organizationId, userId);
    const inForce = existing.endsAt > now;
    const why: ExemptionEnd = !inForce ? 'expired' : role === null ? 'left' : 'became_owner';
    await this.announceEnd(manager, inForce ? actor : NOBODY, existing, why, now);
  }

  /**
   * Ends the exemptions that ran out (the background job, on every instance):
   * reads saw them end at their time already; this removes each row and sends
   * its event, once, in batches of LIMITS.enforcementJobBatch. Returns how many.
   */
  async endRunOut(): Promise<number> {
    let ended = 0;
    for (;;) {
      const count = await this.database.transaction(async (manager) => {
        const now = this.clock.now();
        const due = await this.exemptions.claimRunOut(manager, now, LIMITS.enforcementJobBatch);
        const existing = new Set(
          (
            await this.organizations.findMany(manager, [...new Set(due.map((exemption) => exemption.organizationId))])
          ).map((organization) => organization.id),
        );
        for (const exemption of due) {
          await this.exemptions.delete(manager, exemption.organizationId, exemption.userId);
          // A deleted organization's exemptions go with it, unannounced (as its members do).
          if (existing.has(exemption.organizationId)) {
            await this.announceEnd(manager, NOBODY, exemption, 'expired', now);
          }
        }
        return due.length;
      });
      ended += count;
      if (count < LIMITS.enforcementJobBatch) return ended;
    }
  }

  private async announceEnd(
    manager: EntityManager,
    actor: Actor,
    exemption: TwoFactorExemptionRecord,
    why: ExemptionEnd,
    now: Date,
  ): Promise<void> {
    await this.audit.record(
      manager,
      actor,
      {
        action: 'TWO_FACTOR_EXEMPTION_ENDED',
        organizationId: exemption.organizationId,
        userId: exemption.userId,
        reason: ENDED_BECAUSE[why],
        details: { exemptUntil: why === 'expired' ? exemption.endsAt : now, exemptionEnded: why },
      },
      now,
    );
  }

  /** Later than now, at most LIMITS.maxExemptionDays ahead. */
  private checkUntil(until: Date): void {
    const now = this.clock.now().getTime();
    if (!(until instanceof Date) || Number.isNaN(until.getTime()) || until.getTime() <= now) {
      throw badInput('until must be later than now.', 'until');
    }
    if (until.getTime() > now + LIMITS.maxExemptionDays * DAY_MS) {
      throw badInput(`until must be at most ${LIMITS.maxExemptionDays} days ahead.`, 'until');
    }
  }

  private requireOwner(manager: EntityManager, caller: Caller, organizationId: string, lock: boolean) {
    const { organizations, memberships } = this;
    return requireOwner({ organizations, memberships }, manager, caller, organizationId, {
      lock,
      refusal: OWNERS_ONLY,
    });
  }
}

const notAnOwner = (message: string) => badInput(message, 'userId');
