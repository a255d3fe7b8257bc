import type { EntityManager } from 'typeorm';
import type { UserRepository } from '../users/user.repository';
import type { MembershipRecord } from './membership.entity';
import type { MembershipRepository } from './membership.repository';
import type { OrganizationRecord } from './organization.entity';
import type { OrganizationRepository } from './organization.repository';

/** A member's copy of the user's state, as it decides access. */
export interface MemberState {
  twoFactorEnabled: boolean;
  phishingResistant: boolean;
  /** The member's exemption's end (in force while it lies ahead), when it has one. */
  exemptUntil?: Date | null;
}

/**
 * Told of every membership whose copy of the user's state moves, inside the
 * change's transaction (the webhook outbox: `organization.member_access_changed`
 * when the member's access to that organization changed with it).
 */
export interface MemberStateChanges {
  changed(
    manager: EntityManager,
    userId: string,
    organization: OrganizationRecord,
    before: MemberState,
    after: MemberState,
  ): Promise<void>;
}

/**
 * What a user's own two-factor change means for the user's organizations, inside
 * that change's transaction, after the user's row lock: their rows are locked in
 * id order (docs/adr/0002-lock-order.md), each membership's copy of the state and
 * each organization's counters move together.
 */
export class OrganizationMembers {
  constructor(
    private readonly memberships: MembershipRepository,
    private readonly organizations: OrganizationRepository,
    private readonly users: UserRepository,
    private readonly stateChanges?: MemberStateChanges,
  ) {}

  /** Two-factor turned on or off; the caller updates users.two_factor_enabled (TwoFactorLifecycle). */
  async setMemberTwoFactor(manager: EntityManager, userId: string, enabled: boolean): Promise<void> {
    const memberships = await this.memberships.findByUser(manager, userId);
    const locked = await this.organizations.lockMany(
      manager,
      memberships.map((m) => m.organizationId),
    );
    const exemptions = new ExemptionEnds(this.memberships, manager, userId);
    for (const membership of memberships) {
      if (membership.twoFactorEnabled === enabled) continue;
      const { role, phishingResistant } = membership;
      await this.organizations.moveMember(manager, membership.organizationId, membership, {
        role,
        twoFactorEnabled: enabled,
        phishingResistant,
      });
      await this.told(
        manager,
        userId,
        locked,
        membership,
        { twoFactorEnabled: enabled, phishingResistant },
        exemptions,
      );
    }
    await this.memberships.setTwoFactorForUser(manager, userId, enabled);
  }

  /**
   * The user became phishing-resistant (`true`: it has at least one phishing-resistant
   * credential now) or stopped being so (`false`: its last one went). For the
   * phishing-resistant factor, in the transaction that adds or removes the credential, after
   * `UserRepository.lock`: sets `users.phishing_resistant` itself, then locks the
   * user's organizations in id order, moves each one's counters and updates the
   * memberships' copies. Calling it with the value the user already has changes
   * nothing.
   *
   * Before removing the last credential, the factor asks
   * `requiringPhishingResistant(manager, userId, { lock: true })` in the same
   * transaction and refuses while it names any organization.
   */
  async setMemberPhishingResistant(manager: EntityManager, userId: string, value: boolean): Promise<void> {
    await this.users.update(manager, userId, { phishingResistant: value });
    const memberships = await this.memberships.findByUser(manager, userId);
    const locked = await this.organizations.lockMany(
      manager,
      memberships.map((m) => m.organizationId),
    );
    const exemptions = new ExemptionEnds(this.memberships, manager, userId);
    for (const membership of memberships) {
      if (membership.phishingResistant === value) continue;
      const { role, twoFactorEnabled } = membership;
      await this.organizations.moveMember(manager, membership.organizationId, membership, {
        role,
        twoFactorEnabled,
        phishingResistant: value,
      });
      await this.told(manager, userId, locked, membership, { twoFactorEnabled, phishingResistant: value }, exemptions);
    }
    await this.memberships.setPhishingResistantForUser(manager, userId, value);
  }

  /** The membership's copy moved from what it was to `after`: told to whoever listens, with its organization as locked. */
  private async told(
    manager: EntityManager,
    userId: string,
    organizations: OrganizationRecord[],
    membership: MembershipRecord,
    after: MemberState,
    exemptions: ExemptionEnds,
  ): Promise<void> {
    if (!this.stateChanges) return;
    const organization = organizations.find((candidate) => candidate.id === membership.organizationId);
    if (!organization) return;
    // An exemption stays what it was: access moved only with the member's own state.
    const exemptUntil = await exemptions.of(membership.organizationId);
    const before = {
      twoFactorEnabled: membership.twoFactorEnabled,
      phishingResistant: membership.phishingResistant,
      exemptUntil,
    };
    await this.stateChanges.changed(manager, userId, organization, before, { ...after, exemptUntil });
  }

  /** The ids of the user's organizations that require two-factor; `lock`: locked before they are read. */
  requiringTwoFactor(manager: EntityManager, userId: string, options: { lock: boolean }): Promise<string[]> {
    return this.requiring(manager, userId, options, (organization) => organization.requiresTwoFactor);
  }

  /**
   * The ids of the user's organizations that require phishing-resistant two-factor
   * (in id order); `lock`: locked before they are read, as the decision to remove a
   * last phishing-resistant key needs (docs/adr/0003-check-then-check-again-under-lock.md).
   */
  requiringPhishingResistant(manager: EntityManager, userId: string, options: { lock: boolean }): Promise<string[]> {
    return this.requiring(
      manager,
      userId,
      options,
      (organization) => organization.requiresTwoFactor && organization.requiresPhishingResistant,
    );
  }

  private async requiring(
    manager: EntityManager,
    userId: string,
    options: { lock: boolean },
    requires: (organization: OrganizationRecord) => boolean,
  ): Promise<string[]> {
    const ids = (await this.memberships.findByUser(manager, userId)).map((m) => m.organizationId);
    const organizations = options.lock
      ? await this.organizations.lockMany(manager, ids)
      : await this.organizations.findMany(manager, ids);
    return organizations
      .filter(requires)
      .map((organization) => organization.id)
      .sort();
  }
}

/** The user's exemptions, read once (by the user's id) and only when a change is told. */
class ExemptionEnds {
  private ends: Promise<Map<string, Date>> | undefined;

  constructor(
    private readonly memberships: MembershipRepository,
    private readonly manager: EntityManager,
    private readonly userId: string,
  ) {}

  async of(organizationId: string): Promise<Date | null> {
    this.ends ??= this.memberships.exemptionEndsOfUser(this.manager, this.userId);
    return (await this.ends).get(organizationId) ?? null;
  }
}
