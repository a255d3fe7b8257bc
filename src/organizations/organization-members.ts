import type { EntityManager } from 'typeorm';
import { AppError } from '../errors';
import type { UserRepository } from '../users/user.repository';
import { KeyJudge } from './key-judge';
import { type KeyKind, KeySets, NO_KEYS } from './key-sets';
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
    judge?: KeyJudge,
  ) {
    this.judge = judge ?? new KeyJudge(new KeySets(memberships.database), { current: { isCompromised: () => false } });
  }

  readonly judge: KeyJudge;

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
      const { role, phishingResistant, keySetId } = membership;
      await this.organizations.moveMember(manager, membership.organizationId, membership, {
        role,
        twoFactorEnabled: enabled,
        phishingResistant,
        keySetId,
      });
      await this.told(manager, userId, locked, membership, { twoFactorEnabled: enabled, keySetId }, exemptions);
    }
    await this.memberships.setTwoFactorForUser(manager, userId, enabled);
  }

  /**
   * The user's keys changed (`kinds`: the kinds of every credential it has now,
   * key-sets.ts). For the phishing-resistant factor, in the transaction that adds
   * or removes the credential, after `UserRepository.lock`: interns the key set,
   * sets `users.key_set_id` and `users.phishing_resistant` (any key), locks the
   * user's organizations in id order, moves each one's counters and updates the
   * memberships' copies.
   *
   * With `enforce`, refused (TWO_FACTOR_REQUIRED_BY_ORGANIZATION, nothing
   * changed) when an organization that requires a phishing-resistant factor
   * accepted the user's keys before and would not after: the last accepted key
   * stays. Judged under the organizations' locks, as setAuthenticatorPolicy
   * judges the owners under the same lock (docs/adr/0003).
   */
  async setMemberKeys(
    manager: EntityManager,
    userId: string,
    kinds: readonly KeyKind[],
    options: { enforce: boolean } = { enforce: false },
  ): Promise<void> {
    const keySetId = await this.judge.keySets.intern(manager, kinds);
    const value = keySetId !== NO_KEYS;
    const memberships = await this.memberships.findByUser(manager, userId);
    const locked = await this.organizations.lockMany(
      manager,
      memberships.map((m) => m.organizationId),
    );
    const sets = await this.judge.keySets.kindsOf(manager, [keySetId, ...memberships.map((m) => m.keySetId)]);
    if (options.enforce) {
      const refusing = locked
        .filter(
          (organization) =>
            organization.requiresTwoFactor &&
            organization.requiresPhishingResistant &&
            !this.judge.accepts(organization, sets.get(keySetId) ?? []) &&
            memberships.some(
              (m) =>
                m.organizationId === organization.id && this.judge.accepts(organization, sets.get(m.keySetId) ?? []),
            ),
        )
        .map((organization) => organization.id)
        .sort();
      if (refusing.length > 0) {
        throw new AppError(
          'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
          'An organization you belong to requires a security key or passkey its policy accepts: keep at least one.',
          { organizationIds: refusing },
        );
      }
    }
    await this.users.update(manager, userId, { phishingResistant: value, keySetId });
    const exemptions = new ExemptionEnds(this.memberships, manager, userId);
    for (const membership of memberships) {
      if (membership.phishingResistant === value && membership.keySetId === keySetId) continue;
      const { role, twoFactorEnabled } = membership;
      await this.organizations.moveMember(manager, membership.organizationId, membership, {
        role,
        twoFactorEnabled,
        phishingResistant: value,
        keySetId,
      });
      await this.told(manager, userId, locked, membership, { twoFactorEnabled, keySetId }, exemptions);
    }
    await this.memberships.setKeysForUser(manager, userId, value, keySetId);
  }

  /**
   * As setMemberKeys with one key of no known model (`true`) or none: for
   * callers that know only whether the user has a key.
   */
  setMemberPhishingResistant(manager: EntityManager, userId: string, value: boolean): Promise<void> {
    return this.setMemberKeys(manager, userId, value ? [ANY_KEY] : []);
  }

  /** The membership's copy moved from what it was to `after`: told to whoever listens, with its organization as locked. */
  private async told(
    manager: EntityManager,
    userId: string,
    organizations: OrganizationRecord[],
    membership: MembershipRecord,
    after: { twoFactorEnabled: boolean; keySetId: number },
    exemptions: ExemptionEnds,
  ): Promise<void> {
    if (!this.stateChanges) return;
    const organization = organizations.find((candidate) => candidate.id === membership.organizationId);
    if (!organization) return;
    // An exemption stays what it was: access moved only with the member's own state.
    const exemptUntil = await exemptions.of(membership.organizationId);
    // Phishing-resistant as this organization's policy judges the keys now.
    const sets = await this.judge.keySets.kindsOf(manager, [membership.keySetId, after.keySetId]);
    const before = {
      twoFactorEnabled: membership.twoFactorEnabled,
      phishingResistant: this.judge.accepts(organization, sets.get(membership.keySetId) ?? []),
      exemptUntil,
    };
    await this.stateChanges.changed(manager, userId, organization, before, {
      twoFactorEnabled: after.twoFactorEnabled,
      phishingResistant: this.judge.accepts(organization, sets.get(after.keySetId) ?? []),
      exemptUntil,
    });
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

  /**
   * The ids of the user's organizations that require a phishing-resistant factor
   * and whose authenticator policy accepts the user's keys (judged with the blob
   * loaded now): where a phishable answer must give way to the key (StepUp).
   */
  async requiringAcceptedKey(manager: EntityManager, userId: string, options: { lock: boolean }): Promise<string[]> {
    const memberships = await this.memberships.findByUser(manager, userId);
    const ids = memberships.map((m) => m.organizationId);
    const organizations = options.lock
      ? await this.organizations.lockMany(manager, ids)
      : await this.organizations.findMany(manager, ids);
    const sets = await this.judge.keySets.kindsOf(
      manager,
      memberships.map((m) => m.keySetId),
    );
    return organizations
      .filter((organization) => organization.requiresTwoFactor && organization.requiresPhishingResistant)
      .filter((organization) => {
        const keySetId = memberships.find((m) => m.organizationId === organization.id)?.keySetId ?? NO_KEYS;
        return keySetId !== NO_KEYS && this.judge.accepts(organization, sets.get(keySetId) ?? []);
      })
      .map((organization) => organization.id)
      .sort();
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

/** A key of no known model, unattested and synced: what any-key callers stand for. */
const ANY_KEY: KeyKind = { aaguid: '00000000-0000-0000-0000-000000000000', attested: false, deviceBound: false };

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
