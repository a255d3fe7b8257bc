import type { EntityManager } from 'typeorm';
import type { Actor } from '../callers/caller';
import { AppError, badInput } from '../errors';
import type { Database } from '../infra/db/database';
import { hasAcceptedKey } from '../organizations/accepted-key';
import type { OrganizationMembers } from '../organizations/organization-members';
import { TwoFactorMethod } from '../users/two-factor-method';
import type { UserRepository } from '../users/user.repository';
import type { AnswerChecker } from './answer-checker';
import type { FactorRegistry } from './factor-registry';
import { ANSWER_REFUSALS, type Answer, partsOf } from './second-factor';

/**
 * Step-up: the answer that the operations changing or revealing a user's
 * two-factor require. Any registered factor of the user may give it (a recovery
 * code is then used up); checked through the one answer path.
 *
 * Every step-up adds or removes a factor, shows or regenerates recovery codes,
 * or turns two-factor off. So while an organization of the user requires a
 * phishing-resistant factor and the user has an accepted key, only the key
 * gives one: a phishable answer is PHISHING_RESISTANT_ANSWER_REQUIRED before it
 * is counted, and again under the locks of the success transaction
 * (docs/adr/0003-check-then-check-again-under-lock.md,
 * docs/adr/0012-access-per-sign-in.md).
 */
export class StepUp {
  constructor(
    private readonly checker: AnswerChecker,
    private readonly registry: FactorRegistry,
    private readonly database: Database,
    private readonly users: UserRepository,
    private readonly organizations: OrganizationMembers,
  ) {}

  async require<T>(
    actor: Actor,
    userId: string,
    answer: Answer,
    onSuccess: (manager: EntityManager, method: TwoFactorMethod, now: Date) => Promise<T>,
  ): Promise<T> {
    if (partsOf(answer) === 0) throw badInput(ANSWER_REFUSALS.missing, 'code');
    const factors = this.registry.all();
    const user = await this.database.run((manager) => this.users.find(manager, userId));
    if (!user?.twoFactorEnabled) throw notEnrolled();
    if (
      hasAcceptedKey(user) &&
      !factors.some((factor) => factor.accepts(answer) && factor.phishingResistant === true)
    ) {
      await this.database.run((manager) => this.refusePhishable(manager, userId, { lock: false }));
    }
    const { result } = await this.checker.check({
      userId,
      answer,
      factors,
      purpose: { kind: 'step-up', userId },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess: async (manager, method, now) => {
        // The check that decides: the user's row is locked here, the organizations are locked before they are read.
        if (!factors.find((factor) => factor.method === method)?.phishingResistant) {
          const current = await this.users.find(manager, userId);
          if (current && hasAcceptedKey(current)) await this.refusePhishable(manager, userId, { lock: true });
        }
        return onSuccess(manager, method, now);
      },
    });
    return result;
  }

  async isEnabled(userId: string): Promise<boolean> {
    const user = await this.database.run((manager) => this.users.find(manager, userId));
    return user?.twoFactorEnabled ?? false;
  }

  async requireEnabled(userId: string): Promise<void> {
    if (!(await this.isEnabled(userId))) throw notEnrolled();
  }

  /**
   * For a user with a key: refused while an organization of the user requires a
   * phishing-resistant factor and its authenticator policy accepts the user's keys
   * (a user whose keys it does not accept answers as it can, to add one it does).
   */
  private async refusePhishable(manager: EntityManager, userId: string, options: { lock: boolean }): Promise<void> {
    const organizationIds = await this.organizations.requiringAcceptedKey(manager, userId, options);
    if (organizationIds.length === 0) return;
    throw new AppError(
      'PHISHING_RESISTANT_ANSWER_REQUIRED',
      'An organization you belong to requires a security key or passkey: confirm this with your key, not a code.',
      { organizationIds },
    );
  }
}

const notEnrolled = () => new AppError('NOT_ENROLLED', 'Two-factor is not on for this user.');
