import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/audit-log';
import { AppError, badInput } from '../errors';
import type { Answer } from '../factors/factor';
import type { TwoFactorMethod } from '../factors/method';
import type { FactorRegistry } from '../factors/registry';
import type { Database } from '../infra/db/database';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { AnswerChecker } from './answer-checker';

/**
 * Step-up: the answer that the operations changing or revealing a user's
 * two-factor require. Any registered factor of the user may give it (a recovery
 * code is then used up); checked through the one answer path.
 */
export class StepUp {
  constructor(
    private readonly checker: AnswerChecker,
    private readonly registry: FactorRegistry,
    private readonly database: Database,
    private readonly users: UserRepository,
  ) {}

  async require<T>(
    actor: Actor,
    userId: string,
    answer: Answer,
    onSuccess: (manager: EntityManager, method: TwoFactorMethod, now: Date) => Promise<T>,
  ): Promise<T> {
    if (answer.code === undefined && answer.webAuthn === undefined) {
      throw badInput(
        'code or webAuthn is required: a current TOTP or SMS code, a recovery code, or a security key.',
        'code',
      );
    }
    await this.requireEnabled(userId);
    const { result } = await this.checker.check({
      userId,
      answer,
      factors: this.registry.all(),
      purpose: { kind: 'step-up', userId },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess,
    });
    return result;
  }

  async isEnabled(userId: string): Promise<boolean> {
    const user = await this.database.run((manager) => this.users.find(manager, userId));
    return user?.twoFactorEnabled ?? false;
  }

  async requireEnabled(userId: string): Promise<void> {
    if (!(await this.isEnabled(userId))) throw new AppError('NOT_ENROLLED', 'Two-factor is not on for this user.');
  }
}
