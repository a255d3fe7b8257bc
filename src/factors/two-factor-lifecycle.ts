import type { EntityManager } from 'typeorm';
import type { Actor, AuditLog } from '../audit/audit-log';
import { AppError } from '../errors';
import type { FactorMethod, FactorRepository, RecoveryCodeRepository } from '../infra/db/repositories/factor.repository';
import type { MembershipRepository } from '../infra/db/repositories/membership.repository';
import type { OrganizationRepository } from '../infra/db/repositories/organization.repository';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { RecoveryCodeIssuer } from './recovery-codes/recovery-code-issuer';

/**
 * Two-factor turning on and off, with everything that follows from it, inside
 * the caller's transaction (which holds the user's row lock):
 * recovery codes issued or deleted, each membership's copy of the state and the
 * organizations' counts moved, and the organization rule enforced.
 *
 * Locks: the user's row first, then the user's organizations in id order, the
 * same order as directory sync, so concurrent changes never deadlock; and the
 * organization rows are locked before they are read, so an owner's
 * requireTwoFactor and a member's removal of the last factor cannot both pass.
 */
export class TwoFactorLifecycle {
  constructor(
    private readonly users: UserRepository,
    private readonly factors: FactorRepository,
    private readonly recoveryCodes: RecoveryCodeRepository,
    private readonly issuer: RecoveryCodeIssuer,
    private readonly memberships: MembershipRepository,
    private readonly organizations: OrganizationRepository,
    private readonly audit: AuditLog,
  ) {}

  /**
   * A factor was just confirmed: audited, and two-factor turned on if it was
   * off. Returns the fresh recovery codes when it turned on, else null.
   */
  async completeEnrollment(manager: EntityManager, actor: Actor, userId: string, method: FactorMethod, now: Date): Promise<string[] | null> {
    await this.audit.record(manager, actor, { action: method === 'TOTP' ? 'TOTP_ENABLED' : 'SMS_ENABLED', userId }, now);
    if (await this.isEnabled(manager, userId)) return null;
    const codes = await this.enable(manager, userId, now);
    await this.audit.record(manager, actor, { action: 'TWO_FACTOR_ENABLED', userId, reason: method }, now);
    return codes;
  }

  async isEnabled(manager: EntityManager, userId: string): Promise<boolean> {
    return (await this.users.find(manager, userId))?.twoFactorEnabled ?? false;
  }

  /** Turns two-factor on (the first factor was just confirmed); returns the fresh recovery codes. */
  async enable(manager: EntityManager, userId: string, now: Date): Promise<string[]> {
    await this.users.update(manager, userId, { twoFactorEnabled: true, enabledAt: now });
    await this.moveMemberships(manager, userId, true);
    return this.issuer.issue(manager, userId, now);
  }

  /** Turns two-factor off when no factor is left: the recovery codes go too. Returns whether it did. */
  async disableIfNoFactorLeft(manager: EntityManager, userId: string): Promise<boolean> {
    const [totp, sms] = await Promise.all([this.factors.findTotp(manager, userId), this.factors.findSms(manager, userId)]);
    if (totp || sms) return false;
    await this.recoveryCodes.deleteAll(manager, userId);
    await this.users.update(manager, userId, { twoFactorEnabled: false, enabledAt: null, recoveryCodesGeneratedAt: null });
    await this.moveMemberships(manager, userId, false);
    return true;
  }

  /**
   * The organization rule: while any organization of the user requires
   * two-factor, the last factor stays. Inside the change's transaction the
   * organizations are locked before they are read (`lock: true`); a pre-check
   * before a code is spent only reads them.
   */
  async assertMayTurnOff(manager: EntityManager, userId: string, options: { lock: boolean } = { lock: true }): Promise<void> {
    const ids = (await this.memberships.findByUser(manager, userId)).map((m) => m.organizationId);
    const organizations = options.lock ? await this.organizations.lockMany(manager, ids) : await this.organizations.findMany(manager, ids);
    const requiring = organizations.filter((organization) => organization.requiresTwoFactor).map((organization) => organization.id);
    if (requiring.length > 0) {
      throw new AppError(
        'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
        'An organization you belong to requires two-factor authentication: keep at least one factor.',
        { organizationIds: requiring },
      );
    }
  }

  private async moveMemberships(manager: EntityManager, userId: string, enabled: boolean): Promise<void> {
    const memberships = await this.memberships.findByUser(manager, userId);
    await this.organizations.lockMany(manager, memberships.map((m) => m.organizationId));
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
}
