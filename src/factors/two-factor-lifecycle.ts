import type { EntityManager } from 'typeorm';
import type { FactorRegistry } from '../attempts/factor-registry';
import type { CaepCredential, Enrollment } from '../attempts/second-factor';
import type { AuditLog } from '../audit/audit-log';
import type { Actor } from '../callers/caller';
import { AppError } from '../errors';
import type { KeyKind } from '../organizations/key-sets';
import type { OrganizationMembers } from '../organizations/organization-members';
import type { TrustedDeviceService } from '../trusted-devices/trusted-device.service';
import type { UserRepository } from '../users/user.repository';
import type { PendingSetupRepository } from './pending-setup.repository';

export interface TwoFactorLifecycleDependencies {
  users: UserRepository;
  registry: FactorRegistry;
  pendingSetups: PendingSetupRepository;
  /** The user's recovery codes (the recovery-codes module): deleted when two-factor goes. */
  recoveryCodes: { deleteAll(manager: EntityManager, userId: string): Promise<void> };
  /** Issues a fresh set when two-factor turns on; returns the codes, formatted. */
  issuer: { issue(manager: EntityManager, userId: string, now: Date): Promise<string[]> };
  organizations: OrganizationMembers;
  trustedDevices: Pick<TrustedDeviceService, 'revokeAllIn'>;
  audit: AuditLog;
}

/**
 * Two-factor turning on and off, with everything that follows from it, inside
 * the caller's transaction (which holds the user's row lock): recovery codes
 * issued or deleted, trusted devices revoked, the user's organizations told,
 * and their rule enforced (locks: docs/adr/0002-lock-order.md).
 */
export class TwoFactorLifecycle {
  constructor(private readonly deps: TwoFactorLifecycleDependencies) {}

  /**
   * A factor was just confirmed: audited, and two-factor turned on if it was
   * off. Returns the fresh recovery codes when it turned on, else null.
   * Turning on discards every other pending setup: each was started without a
   * step-up (two-factor was off), and from now on no factor is added without
   * a step-up answer given after it turned on (issue 21: a stolen session's
   * setups, confirmed once the victim had turned two-factor on).
   */
  async completeEnrollment(
    manager: EntityManager,
    actor: Actor,
    userId: string,
    enrollment: Enrollment,
    now: Date,
    /** The user's credentials of this factor before this one was added (credentialsOf): the event names the new ones. */
    before: readonly CaepCredential[] = [],
  ): Promise<string[] | null> {
    const { audit, users, issuer, organizations } = this.deps;
    const known = new Set(before.map((credential) => credential.id));
    const added = (await this.credentialsOf(manager, userId, enrollment)).filter((one) => !known.has(one.id));
    const details = {
      ...(await enrollment.eventDetails?.(manager, userId)),
      credentialTypes: typesOf(added),
    };
    await audit.record(manager, actor, { action: enrollment.enabledAction, userId, details }, now);
    await enrollment.afterChange?.(manager, userId, { enforce: true });
    if ((await users.find(manager, userId))?.twoFactorEnabled) return null;
    await users.update(manager, userId, { twoFactorEnabled: true, enabledAt: now });
    await this.deps.pendingSetups.deleteAllOf(manager, userId);
    await organizations.setMemberTwoFactor(manager, userId, true);
    const codes = await issuer.issue(manager, userId, now);
    await audit.record(manager, actor, { action: 'TWO_FACTOR_ENABLED', userId, reason: enrollment.method }, now);
    return codes;
  }

  /**
   * Locks the user's row (created if missing) and says whether two-factor is on.
   * A setup started without a step-up is saved under this lock only while it is
   * off, so it cannot slip in after completeEnrollment discarded the others.
   */
  async lockedIsOn(manager: EntityManager, userId: string, now: Date): Promise<boolean> {
    return (await this.deps.users.lock(manager, userId, now)).twoFactorEnabled;
  }

  /**
   * The user's factor of a one-a-user kind is being replaced by a confirmed new
   * one: removed as removeTotp/removeSms would, in the confirmation's
   * transaction: audited (`factor.removed`, with what the old one showed) and
   * the trusted devices revoked. Two-factor stays on: the new one follows.
   */
  async removeReplaced(
    manager: EntityManager,
    actor: Actor,
    userId: string,
    enrollment: Enrollment,
    now: Date,
  ): Promise<void> {
    const details = {
      ...(await enrollment.eventDetails?.(manager, userId)),
      credentialTypes: typesOf(await this.credentialsOf(manager, userId, enrollment)),
    };
    if (!(await enrollment.removeAll(manager, userId))) return;
    await this.deps.audit.record(manager, actor, { action: enrollment.removedAction, userId, details }, now);
    await this.revokeTrustedDevices(manager, actor, userId, now, `${enrollment.noun} replaced`);
  }

  /** How many confirmed factors of every kind the user has. */
  async countFactors(manager: EntityManager, userId: string): Promise<number> {
    const counts = await Promise.all(
      this.deps.registry.enrollments().map((enrollment) => enrollment.count(manager, userId)),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Turns two-factor off when no factor is left: the recovery codes go too. Returns whether it did. */
  async disableIfNoFactorLeft(manager: EntityManager, userId: string): Promise<boolean> {
    if ((await this.countFactors(manager, userId)) > 0) return false;
    await this.deps.recoveryCodes.deleteAll(manager, userId);
    await this.deps.users.update(manager, userId, {
      twoFactorEnabled: false,
      enabledAt: null,
      recoveryCodesGeneratedAt: null,
    });
    await this.deps.organizations.setMemberTwoFactor(manager, userId, false);
    return true;
  }

  /**
   * The factors a trusted device stood for changed (two-factor turned off, a
   * factor removed or replaced, recovery codes regenerated, an admin's reset, the user
   * erased): every trusted device of the user goes, in the change's
   * transaction, audited when there was any. The one place this happens.
   */
  revokeTrustedDevices(manager: EntityManager, actor: Actor, userId: string, now: Date, why: string): Promise<number> {
    return this.deps.trustedDevices.revokeAllIn(manager, actor, userId, now, why);
  }

  /** The CAEP credential types of every credential the user holds, each once (read before removeEverything). */
  async credentialTypesHeld(manager: EntityManager, userId: string): Promise<string[]> {
    const held = await Promise.all(
      this.deps.registry.enrollments().map((enrollment) => this.credentialsOf(manager, userId, enrollment)),
    );
    return typesOf(held.flat());
  }

  /** The user's credentials of one factor with their CAEP types (none for a factor without one). */
  credentialsOf(manager: EntityManager, userId: string, enrollment: Enrollment): Promise<CaepCredential[]> {
    return enrollment.credentials?.(manager, userId) ?? Promise.resolve([]);
  }

  /** Every factor, pending setup and recovery code of the user goes (the flags: disableIfNoFactorLeft). */
  async removeEverything(manager: EntityManager, userId: string): Promise<void> {
    for (const enrollment of this.deps.registry.enrollments()) {
      if (await enrollment.removeAll(manager, userId))
        await enrollment.afterChange?.(manager, userId, { enforce: false });
    }
    await this.deps.pendingSetups.deleteAllOf(manager, userId);
    await this.deps.recoveryCodes.deleteAll(manager, userId);
  }

  /**
   * The user's keys (security keys and passkeys) changed: the organizations'
   * copies follow; with `enforce`, losing the last key an organization that
   * requires a phishing-resistant factor accepts is refused
   * (OrganizationMembers.setMemberKeys).
   */
  async setKeys(
    manager: EntityManager,
    userId: string,
    kinds: readonly KeyKind[],
    { enforce }: { enforce: boolean },
  ): Promise<void> {
    await this.deps.organizations.setMemberKeys(manager, userId, kinds, { enforce });
  }

  /**
   * The organization rule: while any organization of the user requires
   * two-factor, the last factor stays. Inside the change's transaction the
   * organizations are locked before they are read (`lock: true`); a pre-check
   * before an answer is spent only reads them
   * (docs/adr/0003-check-then-check-again-under-lock.md).
   */
  async assertMayTurnOff(
    manager: EntityManager,
    userId: string,
    options: { lock: boolean } = { lock: true },
  ): Promise<void> {
    const requiring = await this.deps.organizations.requiringTwoFactor(manager, userId, options);
    if (requiring.length > 0) {
      throw new AppError(
        'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
        'An organization you belong to requires two-factor authentication: keep at least one factor.',
        { organizationIds: requiring },
      );
    }
  }
}

/** Each CAEP credential type once. */
const typesOf = (credentials: readonly CaepCredential[]) => [...new Set(credentials.map((one) => one.type))];
