import type { EntityManager } from 'typeorm';
import type { AuditAction, AuditLog } from '../audit/audit-log';
import type { Actor, Caller } from '../callers/caller';
import { hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import { nextReminderDue } from './grace-period';
import type { KeyJudge } from './key-judge';
import type { MembershipRepository } from './membership.repository';
import type { OrganizationRecord } from './organization.entity';
import type { OrganizationRepository } from './organization.repository';
import { OrganizationView } from './organization.types';
import { requireOwner } from './owner-check';

const OWNERS_ONLY = "Only the organization's owners change its two-factor policy.";

const DAY_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A grace period ending at `endsAt` (null: none) given `now`, with when its first reminder is due. */
const gracePeriod = (endsAt: Date | null, now: Date): Partial<OrganizationRecord> => ({
  gracePeriodEndsAt: endsAt,
  gracePeriodStartedAt: endsAt ? now : null,
  graceReminderDueAt: nextReminderDue(endsAt ? now : null, endsAt),
});

/**
 * An organization's two-factor policy, changed by its owners: any factor
 * (requireTwoFactor), or a phishing-resistant one only, a phishing-resistant key
 * (requirePhishingResistantTwoFactor: a stronger two-factor policy, so it sets
 * requiresTwoFactor too).
 *
 * Requiring checks the owners and changes the policy in one transaction that
 * holds the organization's row lock from before the check: a member's removal of
 * the last factor (or last phishing-resistant key) locks the same row
 * (TwoFactorLifecycle.assertMayTurnOff, OrganizationMembers.requiringPhishingResistant)
 * before it reads the policy, so of the two, the one that locks second sees what
 * the first did, and no owner can slip out between check and change. Only the
 * organization row is locked here, so the lock order (user first, then
 * organizations in id order) holds.
 */
export class OrganizationPolicyService {
  constructor(
    private readonly database: Database,
    private readonly organizations: OrganizationRepository,
    private readonly memberships: MembershipRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly judge: KeyJudge,
    /** The loaded Metadata Service blob: which AAGUIDs an allow-list may name. */
    private readonly models: { readonly current: { isListed(aaguid: string): boolean; readonly blob: unknown } },
  ) {}

  /** Any factor satisfies it; on an organization that required a phishing-resistant one, relaxes it to any factor. */
  requireTwoFactor(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    gracePeriodDays: number | null | undefined,
  ): Promise<OrganizationView> {
    return this.require(caller, actor, organizationId, gracePeriodDays, false);
  }

  /** Only a phishing-resistant key satisfies it; refused while any owner has none. */
  requirePhishingResistantTwoFactor(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    gracePeriodDays: number | null | undefined,
  ): Promise<OrganizationView> {
    return this.require(caller, actor, organizationId, gracePeriodDays, true);
  }

  /**
   * From nothing required, or from the other strength (any factor, phishing-resistant
   * only), it starts requiring this one, with the grace period from now. At the same
   * strength, it sets the grace period anew.
   */
  private async require(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    gracePeriodDays: number | null | undefined,
    phishingResistant: boolean,
  ): Promise<OrganizationView> {
    const days = gracePeriodDays ?? 0;
    if (!Number.isInteger(days) || days < 0 || days > LIMITS.maxGracePeriodDays) {
      throw badInput(`gracePeriodDays must be from 0 to ${LIMITS.maxGracePeriodDays}.`, 'gracePeriodDays');
    }
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      await this.assertOwnersMeet(manager, organization, phishingResistant);
      const now = this.clock.now();
      const gracePeriodEndsAt = days > 0 ? new Date(now.getTime() + days * DAY_MS) : null;
      if (organization.requiresTwoFactor && organization.requiresPhishingResistant === phishingResistant) {
        return this.setGracePeriod(manager, actor, organization, gracePeriodEndsAt, days, now);
      }
      const changes: Partial<OrganizationRecord> = {
        requiresTwoFactor: true,
        requiresPhishingResistant: phishingResistant,
        twoFactorRequiredSince: organization.requiresTwoFactor ? organization.twoFactorRequiredSince : now,
        ...gracePeriod(gracePeriodEndsAt, now),
        updatedAt: now,
      };
      await this.organizations.update(manager, organizationId, changes);
      const action: AuditAction = phishingResistant
        ? 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT'
        : organization.requiresTwoFactor
          ? 'ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT'
          : 'ORGANIZATION_REQUIRED_TWO_FACTOR';
      await this.audit.record(
        manager,
        actor,
        { action, organizationId, reason: days > 0 ? `grace period of ${days} days` : null },
        now,
      );
      return Object.assign(organization, changes);
    });
    return this.viewFor(caller, record);
  }

  /** Ends the policy, of either strength. */
  async stopRequiringTwoFactor(caller: Caller, actor: Actor, organizationId: string): Promise<OrganizationView> {
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      if (!organization.requiresTwoFactor) return organization;
      const now = this.clock.now();
      const changes: Partial<OrganizationRecord> = {
        requiresTwoFactor: false,
        requiresPhishingResistant: false,
        twoFactorRequiredSince: null,
        ...gracePeriod(null, now),
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
   * Whether members may skip the second factor on a trusted device. Forbidding
   * deletes no device: a login checks every organization of the user each time
   * (TrustedDeviceRepository.findUsable), so tokens work again, until they
   * expire, once it is allowed again. Setting what is already set records nothing.
   */
  async setTrustedDevicesAllowed(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    allowed: boolean,
  ): Promise<OrganizationView> {
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      if (organization.allowsTrustedDevices === allowed) return organization;
      const now = this.clock.now();
      const changes: Partial<OrganizationRecord> = { allowsTrustedDevices: allowed, updatedAt: now };
      await this.organizations.update(manager, organizationId, changes);
      await this.audit.record(
        manager,
        actor,
        {
          action: allowed ? 'ORGANIZATION_ALLOWED_TRUSTED_DEVICES' : 'ORGANIZATION_FORBADE_TRUSTED_DEVICES',
          organizationId,
        },
        now,
      );
      return Object.assign(organization, changes);
    });
    return this.viewFor(caller, record);
  }

  /**
   * Whether multi-factor done at the identity provider (sessionAmr "mfa") meets an
   * any-factor requirement (organization.service.ts decideAccess). Setting what is
   * already set records nothing.
   */
  async setAcceptsIdentityProviderMfa(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    accepts: boolean,
  ): Promise<OrganizationView> {
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      if (organization.acceptsIdentityProviderMfa === accepts) return organization;
      const now = this.clock.now();
      const changes: Partial<OrganizationRecord> = { acceptsIdentityProviderMfa: accepts, updatedAt: now };
      await this.organizations.update(manager, organizationId, changes);
      await this.audit.record(
        manager,
        actor,
        {
          action: accepts
            ? 'ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA'
            : 'ORGANIZATION_STOPPED_ACCEPTING_IDENTITY_PROVIDER_MFA',
          organizationId,
        },
        now,
      );
      return Object.assign(organization, changes);
    });
    return this.viewFor(caller, record);
  }

  /**
   * Which keys meet the phishing-resistant requirement. As requiring: the owners
   * are judged under the organization's row lock, the lock a member's removal of
   * a key takes before it judges (OrganizationMembers.setMemberKeys), so no owner
   * slips out between the check and the change. Setting what is already set
   * records nothing.
   */
  async setAuthenticatorPolicy(
    caller: Caller,
    actor: Actor,
    organizationId: string,
    allowedAaguids: readonly string[],
    requireDeviceBound: boolean,
  ): Promise<OrganizationView> {
    const allowed = this.parseAllowList(allowedAaguids);
    await this.database.run((manager) => this.requireOwner(manager, caller, organizationId, false));
    const record = await this.database.transaction(async (manager) => {
      const organization = await this.requireOwner(manager, caller, organizationId, true);
      const changes: Partial<OrganizationRecord> = { allowedAaguids: allowed.join(','), requireDeviceBound };
      if (
        organization.allowedAaguids === changes.allowedAaguids &&
        organization.requireDeviceBound === requireDeviceBound
      ) {
        return organization;
      }
      const next = Object.assign(
        Object.create(Object.getPrototypeOf(organization)) as OrganizationRecord,
        organization,
        changes,
      );
      await this.assertOwnersMeet(manager, next, true);
      const now = this.clock.now();
      await this.organizations.update(manager, organizationId, { ...changes, updatedAt: now });
      await this.audit.record(
        manager,
        actor,
        {
          action: 'ORGANIZATION_SET_AUTHENTICATOR_POLICY',
          organizationId,
          reason: `${allowed.length} models listed${requireDeviceBound ? ', device-bound keys only' : ''}`,
        },
        now,
      );
      return Object.assign(organization, changes, { updatedAt: now });
    });
    return this.viewFor(caller, record);
  }

  /** UUIDs the loaded blob lists, lower case, sorted, once each (BAD_USER_INPUT otherwise). */
  private parseAllowList(aaguids: readonly string[]): string[] {
    if (aaguids.length > LIMITS.maxAllowedAaguids) {
      throw badInput(`allowedAaguids takes at most ${LIMITS.maxAllowedAaguids} AAGUIDs.`, 'allowedAaguids');
    }
    const parsed = [...new Set(aaguids.map((aaguid) => String(aaguid).toLowerCase()))].sort();
    if (!parsed.every((aaguid) => UUID.test(aaguid))) {
      throw badInput(
        'allowedAaguids takes AAGUIDs: UUIDs such as cb69481e-8ff7-4039-93ec-0a2729a154a8.',
        'allowedAaguids',
      );
    }
    const catalog = this.models.current;
    if (parsed.length > 0 && catalog.blob === null) {
      throw badInput(
        'No FIDO Metadata Service blob is loaded (FIDO_MDS_BLOB_FILE): an allow-list cannot be set.',
        'allowedAaguids',
      );
    }
    const unknown = parsed.filter((aaguid) => !catalog.isListed(aaguid));
    if (unknown.length > 0) {
      throw badInput(
        `allowedAaguids names models the loaded Metadata Service blob does not list: ${unknown.slice(0, 5).join(', ')}.`,
        'allowedAaguids',
      );
    }
    return parsed;
  }

  /**
   * Every owner has what the policy will require (two-factor, or a phishing-resistant
   * key), read only now, under the organization's lock: counters and
   * memberships are as the last change left them. Also when it is already required.
   */
  private async assertOwnersMeet(
    manager: EntityManager,
    organization: OrganizationRecord,
    phishingResistant: boolean,
  ): Promise<void> {
    // Phishing-resistant: a key the authenticator policy accepts, judged with the blob loaded now.
    const judged = phishingResistant ? await this.judge.judgedWithSets(manager, organization) : null;
    const [ownersWithout, counted] = judged
      ? [
          await this.memberships.ownersWithKeySets(
            manager,
            organization.id,
            judged.setIds(false),
            LIMITS.maxIdsPerQuery,
          ),
          judged.record.ownersWithoutPhishingResistant,
        ]
      : [
          await this.memberships.ownersWithoutTwoFactor(manager, organization.id, LIMITS.maxIdsPerQuery),
          organization.ownersWithoutTwoFactor,
        ];
    if (ownersWithout.length > 0 || counted > 0) {
      throw new AppError(
        'OWNERS_WITHOUT_TWO_FACTOR',
        phishingResistant
          ? 'Every owner of the organization must have a security key or passkey (one its authenticator policy accepts) before phishing-resistant two-factor can be required or the policy changed.'
          : 'Every owner of the organization must have two-factor before it can be required.',
        { userIds: ownersWithout },
      );
    }
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
    const changes: Partial<OrganizationRecord> = { ...gracePeriod(gracePeriodEndsAt, now), updatedAt: now };
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

  private viewFor(caller: Caller, record: OrganizationRecord): OrganizationView {
    return OrganizationView.of(record, hasScope(caller, 'twofactor:read') ? 'reader' : 'owner', this.clock.now());
  }

  private requireOwner(manager: EntityManager, caller: Caller, organizationId: string, lock: boolean) {
    const { organizations, memberships } = this;
    return requireOwner({ organizations, memberships }, manager, caller, organizationId, {
      lock,
      refusal: OWNERS_ONLY,
    });
  }
}
