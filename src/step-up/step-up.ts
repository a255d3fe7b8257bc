import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/audit-log';
import type { CodeChecker } from '../attempts/code-checker';
import { AppError, badInput } from '../errors';
import type { CodeVerifier } from '../factors/factor';
import type { Database } from '../infra/db/database';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { TwoFactorMethod } from '../users/user.types';

/**
 * Step-up: the `code` argument of the operations that change or reveal a user's
 * two-factor. A current TOTP code, the SMS code `sendSmsCode` sent, or an unused
 * recovery code (then used up); checked through the one code path.
 */
export class StepUp {
  constructor(
    private readonly checker: CodeChecker,
    private readonly verifiers: CodeVerifier[],
    private readonly database: Database,
    private readonly users: UserRepository,
  ) {}

  async require<T>(
    actor: Actor,
    userId: string,
    code: string | null | undefined,
    onSuccess: (manager: EntityManager, method: TwoFactorMethod, now: Date) => Promise<T>,
  ): Promise<T> {
    if (code === null || code === undefined) throw badInput('code is required: a current TOTP or SMS code, or a recovery code.', 'code');
    await this.requireEnabled(userId);
    const { result } = await this.checker.check({
      userId,
      code,
      verifiers: this.verifiers,
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
