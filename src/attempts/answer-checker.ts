import type { EntityManager } from 'typeorm';
import type { Actor, AuditAction, AuditLog } from '../audit/audit-log';
import { AppError, badInput } from '../errors';
import type { Answer, AnswerPurpose, SecondFactor } from '../factors/factor';
import type { TwoFactorMethod } from '../factors/method';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { AttemptLimits } from './attempt-limits';

export interface AnswerCheck<T> {
  userId: string;
  /** As the caller sent it. */
  answer: Answer;
  /** The factors that may answer, in the order they are tried. */
  factors: readonly SecondFactor[];
  purpose: AnswerPurpose;
  actor: Actor;
  failureAction: Extract<AuditAction, 'CODE_CHECK_FAILED' | 'LOGIN_FAILED'>;
  /** Counted with the attempt, before the answer is checked (e.g. a login challenge's tries). */
  countAttempt?: () => Promise<void>;
  /** Everything a success changes, in the same transaction as spending the answer. */
  onSuccess: (manager: EntityManager, method: TwoFactorMethod, now: Date, amr: readonly string[]) => Promise<T>;
}

export interface AnswerCheckerDependencies {
  database: Database;
  users: UserRepository;
  limits: AttemptLimits;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
}

/**
 * The one path every answer takes: login, step-up, confirmations
 * (docs/adr/0001-one-answer-checking-path.md). Precedence of refusals:
 * TWO_FACTOR_LOCKED, RATE_LIMITED, then what `countAttempt` throws, then
 * INVALID_CODE.
 */
export class AnswerChecker {
  constructor(private readonly deps: AnswerCheckerDependencies) {}

  async check<T>(request: AnswerCheck<T>): Promise<{ method: TwoFactorMethod; result: T }> {
    const { database, users, limits, clock } = this.deps;
    const answer = bounded(request.answer);
    if ((answer.code === undefined) === (answer.webAuthn === undefined)) {
      throw badInput('Give exactly one answer: a code, or a WebAuthn response (webAuthn).', 'code');
    }
    for (const factor of request.factors) factor.validate?.(answer);

    // The lock check and the counting come before the row lock: a slow store must not queue the user's other answers.
    const failedAttemptsInRow = await database.run((manager) => users.failedAttemptsInRow(manager, request.userId));
    if (
      failedAttemptsInRow !== null &&
      isLocked(failedAttemptsInRow) &&
      !request.factors.some((f) => !f.refusedWhenLocked && f.accepts(answer))
    ) {
      throw locked();
    }
    await limits.admit(request.userId, request.actor.clientIp);
    await request.countAttempt?.();

    let outcome: { method: TwoFactorMethod; result: T } | null;
    // Set once every factor has refused the answer: a failure stays counted even if recording it fails.
    let refused = false;
    try {
      // Under the user's row lock, in one transaction: the answer, and a success's
      // effects or a failure's record.
      outcome = await database.transaction(
        async (manager) => {
          const now = clock.now();
          const current = await users.lock(manager, request.userId, now);
          const lockedNow = isLocked(current.failedAttemptsInRow);
          for (const factor of request.factors) {
            if (!factor.accepts(answer) || (lockedNow && factor.refusedWhenLocked)) continue;
            const accepted = await factor.verify(manager, request.userId, answer, request.purpose);
            if (!accepted) continue;
            if (current.failedAttemptsInRow > 0)
              await users.update(manager, request.userId, { failedAttemptsInRow: 0 });
            await factor.recordUse(manager, request.actor, request.userId, now);
            return {
              method: factor.method,
              result: await request.onSuccess(manager, factor.method, now, accepted.amr),
            };
          }
          refused = true;
          await this.recordFailure(manager, request, answer, current.failedAttemptsInRow + 1, now);
          return null;
        },
        { retryDeadlocks: false },
      );
    } catch (error) {
      // The check did not complete (or the answer was right and its effect was refused): no failure.
      if (!refused) await this.forgive(request.userId);
      throw error;
    }
    if (outcome) {
      // Committed: the answer stands even if the store fails now (docs/adr/0004-store-fails-closed.md).
      await this.forgive(request.userId);
      return outcome;
    }
    throw new AppError('INVALID_CODE', 'The code is not valid.');
  }

  private async forgive(userId: string): Promise<void> {
    await this.deps.limits.forgive(userId).catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, 'could not give back an attempt: the store failed; it stays counted');
    });
  }

  /** A wrong answer, under the row lock: one more failure in a row, audited; the one that locks is audited too. */
  private async recordFailure(
    manager: EntityManager,
    request: AnswerCheck<unknown>,
    answer: Answer,
    failuresInRow: number,
    now: Date,
  ): Promise<void> {
    const { users, audit } = this.deps;
    const shaped = request.factors.some((factor) => factor.accepts(answer));
    await users.addFailure(manager, request.userId);
    const reason = shaped
      ? `wrong, used or expired code (${request.purpose.kind})`
      : `malformed code (${request.purpose.kind})`;
    await audit.record(manager, request.actor, { action: request.failureAction, userId: request.userId, reason }, now);
    if (failuresInRow === LIMITS.failuresInRowToLock) {
      await audit.record(manager, request.actor, { action: 'TWO_FACTOR_LOCKED', userId: request.userId }, now);
    }
  }
}

/** A code longer than any factor's is no code at all; surrounding white space is not part of it. */
function bounded(answer: Answer): Answer {
  if (answer.code === undefined) return answer;
  return { ...answer, code: answer.code.length > LIMITS.maxCodeLength ? '' : answer.code.trim() };
}

export const isLocked = (failedAttemptsInRow: number) => failedAttemptsInRow >= LIMITS.failuresInRowToLock;

const locked = () =>
  new AppError(
    'TWO_FACTOR_LOCKED',
    'Two-factor is locked after too many failed attempts: use a recovery code, or ask an admin to reset it.',
  );
