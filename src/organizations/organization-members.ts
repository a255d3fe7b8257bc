import type { EntityManager } from 'typeorm';
import type { MembershipRepository } from '../infra/db/repositories/membership.repository';
import type { OrganizationRepository } from '../infra/db/repositories/organization.repository';

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
  ) {}

  async setMemberTwoFactor(manager: EntityManager, userId: string, enabled: boolean): Promise<void> {
    const memberships = await this.memberships.findByUser(manager, userId);
    await this.organizations.lockMany(
      manager,
      memberships.map((m) => m.organizationId),
    );
    for (const membership of memberships) {
      if (membership.twoFactorEnabled === enabled) continue;
      await this.organizations.moveMember(
        manager,
        membership.organizationId,
        { role: membership.role, twoFactorEnabled: membership.twoFactorEnabled },
        { role: membership.role, twoFactorEnabled: enabled },
      );
    }
    await this.memberships.setTwoFactorForUser(manager, userId, enabled);
  }

  /** PLACEHOLDER until the phishing-resistant policy lands: keeps the members' copies. */
  async setMemberPhishingResistant(_manager: EntityManager, _userId: string, _value: boolean): Promise<void> {}

  /** PLACEHOLDER until the phishing-resistant policy lands. */
  async requiringPhishingResistant(
    _manager: EntityManager,
    _userId: string,
    _options: { lock: boolean },
  ): Promise<string[]> {
    return [];
  }

  /** The ids of the user's organizations that require two-factor; `lock`: locked before they are read. */
  async requiringTwoFactor(manager: EntityManager, userId: string, options: { lock: boolean }): Promise<string[]> {
    const ids = (await this.memberships.findByUser(manager, userId)).map((m) => m.organizationId);
    const organizations = options.lock
      ? await this.organizations.lockMany(manager, ids)
      : await this.organizations.findMany(manager, ids);
    return organizations
      .filter((organization) => organization.requiresTwoFactor)
      .map((organization) => organization.id);
  }
}
