import type { EntityManager } from 'typeorm';
import type { AuditAction, AuditLog } from '../audit/audit-log';
import type { SignInStrength } from '../callers/amr';
import type { Actor } from '../callers/caller';
import { AppError, badInput } from '../errors';
import type { Clock } from '../infra/clock';
import type { Database, Statement } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { TwoFactorMethod } from '../users/two-factor-method';
import type { UserRepository, LockedUser } from '../users/user.repository';
import type { Admission, AttemptLimits, FailureWindow } from './attempt-limits';
import { ANSWER_REFUSALS, type Answer, type AnswerPurpose, partsOf, type SecondFactor } from './second-factor';

export interface AnswerCheck<T> {
  userId: string;
  /** As the caller sent it. */
  answer: Answer;
  /** The factors that may answer, in the order they are tried. */
  factors: readonly SecondFactor[];
  purpose: AnswerPurpose;
  actor: Actor;
  failureAction: Extract<AuditAction, 'CODE_CHECK_FAILED' | 'LOGIN_FAILED'>;
  /** The store's admission, when the caller made it (a login, with its challenge); else the checker makes it. */
  admission?: Admission;
  /** What the purpose itself reads under the lock (e.g. whether the login challenge is spent), checked before any factor. */
  guard?: { reads: Statement[]; check(rows: Record<string, unknown>[][]): void };
  /** Everything a success changes, in the same transaction as spending the answer. */
  onSuccess: (
    manager: EntityManager,
    method: TwoFactorMethod,
    now: Date,
    amr: readonly string[],
    acr?: SignInStrength,
  ) => Promise<T>;
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
 * (docs/adr/0001-one-answer-checking-path.md), planned, then sent
 * (docs/adr/0013-answers-planned-then-sent.md): one round trip to the store
 * (the attempt counted per IP and per challenge), then one transaction of two
 * round trips: the user's row locked with everything the factors and the
 * purpose read, then every write of the decision with its COMMIT.
 * Precedence of refusals: TWO_FACTOR_LOCKED, RATE_LIMITED, CHALLENGE_NOT_FOUND,
 * INVALID_CODE.
 */
export class AnswerChecker {
  constructor(private readonly deps: AnswerCheckerDependencies) {}

  /**
   * The answer as it is checked, or BAD_USER_INPUT for one no factor could take
   * (both a code and a key's answer, a malformed response): refused before
   * anything is counted. A caller that admits the attempt itself (a login) asks first.
   */
  prepare(given: Answer, factors: readonly SecondFactor[]): Answer {
    const answer = bounded(given);
    if (partsOf(answer) !== 1) throw badInput(ANSWER_REFUSALS.notOne, 'code');
    for (const factor of factors) factor.validate?.(answer);
    return answer;
  }

  async check<T>(request: AnswerCheck<T>): Promise<{ method: TwoFactorMethod; result: T }> {
    const { database, users, limits } = this.deps;
    const answer = this.prepare(request.answer, request.factors);
    const candidates = request.factors.filter((factor) => factor.accepts(answer));
    // Whether the lock refuses this answer whatever it is (no factor that unlocks could take it).
    const lockRefuses = !candidates.some((factor) => !factor.refusedWhenLocked);

    const admission = request.admission ?? (await limits.admit(request.actor.clientIp));
    if (admission.refusal) await this.refuseInOrder(request.userId, lockRefuses, admission);

    // Set once every factor has refused the answer: a failure stays counted even if recording it fails.
    let failed = false;
    // Set when the answer was refused before it was checked: the challenge's try is given back.
    let uncounted = false;
    try {
      const outcome = await database.transaction(
        async (manager) => {
          const now = this.deps.clock.now();
          const factorReads = candidates.map((factor) => factor.reads?.(request.userId, answer, request.purpose) ?? []);
          const guardReads = request.guard?.reads ?? [];
          const [userRows, ...rows] = await database.read(manager, [
            users.lockedUserRead(request.userId),
            ...guardReads,
            ...factorReads.flat(),
          ]);
          const user = users.lockedUserOf(userRows) ?? (await this.createLocked(manager, request.userId, now));
          const lockedNow = isLocked(user.failedAttemptsInRow);
          const window = limits.failureWindow(user, now);
          if (lockedNow && lockRefuses) {
            uncounted = true;
            throw locked();
          }
          if (window.refusal) {
            uncounted = true;
            throw window.refusal;
          }
          request.guard?.check(rows.splice(0, guardReads.length));
          for (const [index, factor] of candidates.entries()) {
            const factorRows = rows.splice(0, factorReads[index].length);
            if (lockedNow && factor.refusedWhenLocked) continue;
            const accepted = await factor.verify({
              manager,
              user,
              answer,
              purpose: request.purpose,
              actor: request.actor,
              rows: factorRows,
              now,
            });
            if (!accepted) continue;
            if (user.failedAttemptsInRow > 0) await users.endFailuresInRow(manager, request.userId);
            return {
              method: factor.method,
              result: await request.onSuccess(manager, factor.method, now, accepted.amr, accepted.acr),
            };
          }
          failed = true;
          await this.recordFailure(manager, request, candidates.length > 0, user, window, now);
          return null;
        },
        { retryDeadlocks: false },
      );
      if (outcome) return outcome;
    } catch (error) {
      if (uncounted) await this.giveBack(admission);
      if (failed) await this.countFailureAlone(request.userId);
      throw error;
    }
    throw new AppError('INVALID_CODE', 'The code is not valid.');
  }

  /**
   * The store refused (the IP's window, the challenge's tries): what the
   * database says comes first in the contract's precedence is answered instead.
   */
  private async refuseInOrder(userId: string, lockRefuses: boolean, admission: Admission): Promise<never> {
    const { database, users, limits, clock } = this.deps;
    const user = await database.run((manager) => users.answerState(manager, userId));
    let refusal = admission.refusal!;
    if (user && lockRefuses && isLocked(user.failedAttemptsInRow)) refusal = locked();
    else refusal = limits.failureWindow(user, clock.now()).refusal ?? refusal;
    if (refusal !== admission.refusal) await this.giveBack(admission);
    throw refusal;
  }

  /** A user's first answer: the row is made, locked (rare: users are made when they enroll). */
  private createLocked(manager: EntityManager, userId: string, now: Date): Promise<LockedUser> {
    return this.deps.users.lock(manager, userId, now);
  }

  private async giveBack(admission: Admission): Promise<void> {
    await admission.giveBack().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, 'could not give back a challenge try: the store failed; it stays counted');
    });
  }

  /**
   * The failure's transaction did not commit: the user's count still grows (in a
   * transaction of its own), so a failure that cannot be recorded is never a free guess.
   */
  private async countFailureAlone(userId: string): Promise<void> {
    const { database, users, limits, clock, logger } = this.deps;
    await database
      .transaction(async (manager) => {
        const now = clock.now();
        const user = await users.lock(manager, userId, now);
        await users.recordFailure(manager, userId, limits.failureWindow(user, now).afterFailure);
      })
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'could not count a failed answer: the database failed twice');
      });
  }

  /** A wrong answer, under the row lock: one more failure in a row and in the window, audited; the one that locks is audited too. */
  private async recordFailure(
    manager: EntityManager,
    request: AnswerCheck<unknown>,
    shaped: boolean,
    user: LockedUser,
    window: FailureWindow,
    now: Date,
  ): Promise<void> {
    const { users, audit } = this.deps;
    await users.recordFailure(manager, request.userId, window.afterFailure);
    const reason = shaped
      ? `wrong, used or expired code (${request.purpose.kind})`
      : `malformed code (${request.purpose.kind})`;
    await audit.record(manager, request.actor, { action: request.failureAction, userId: request.userId, reason }, now);
    if (user.failedAttemptsInRow + 1 === LIMITS.failuresInRowToLock) {
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
