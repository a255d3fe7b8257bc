import type { EntityManager } from 'typeorm';
import type { Actor, AuditAction, AuditLog } from '../audit/audit-log';
import { AppError } from '../errors';
import type { CodePurpose, CodeVerifier } from '../factors/factor';
import { normalizeRecoveryCode } from '../factors/recovery-codes/recovery-code-format';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { FactorRepository } from '../infra/db/repositories/factor.repository';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import { TwoFactorMethod } from '../users/user.types';
import type { AttemptLimits } from './attempt-limits';

export interface CodeCheck<T> {
  userId: string;
  /** As the caller sent it. */
  code: string;
  /** The factors that may answer, in the order they are tried. */
  verifiers: CodeVerifier[];
  purpose: CodePurpose;
  actor: Actor;
  failureAction: Extract<AuditAction, 'CODE_CHECK_FAILED' | 'LOGIN_FAILED'>;
  /** Counted with the attempt, before the code is checked (e.g. a login challenge's tries). */
  countAttempt?: () => Promise<void>;
  /** Everything a success changes, in the same transaction as spending the code. */
  onSuccess: (manager: EntityManager, method: TwoFactorMethod, now: Date) => Promise<T>;
}

const MAX_CODE_LENGTH = 64;

/**
 * The one path every code takes (step-up, confirmations, login):
 * 1. TOTP and SMS codes of a locked user are refused (TWO_FACTOR_LOCKED);
 * 2. the attempt is counted per IP and per user before anything is checked
 *    (RATE_LIMITED once a limit is reached, right code or not);
 * 3. in one transaction that holds the user's row lock: the factors try the
 *    code in order, the first that accepts spends it, and the success's effects
 *    run; any failure rolls all of it back;
 * 4. a wrong, malformed, replayed or used code adds to the failures in a row
 *    (kept in the database) and is audited; INVALID_CODE.
 */
export class CodeChecker {
  constructor(
    private readonly database: Database,
    private readonly users: UserRepository,
    private readonly factors: FactorRepository,
    private readonly limits: AttemptLimits,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly lockAfterFailures: number,
  ) {}

  async check<T>(request: CodeCheck<T>): Promise<{ method: TwoFactorMethod; result: T }> {
    const code = request.code.length > MAX_CODE_LENGTH ? '' : request.code.trim();
    const recoveryShaped = normalizeRecoveryCode(code) !== null;

    const user = await this.database.run((manager) => this.users.find(manager, request.userId));
    if (user && this.isLocked(user.failedAttemptsInRow) && !recoveryShaped) throw locked();

    await this.limits.admit(request.userId, request.actor.clientIp);
    await request.countAttempt?.();

    let outcome: { method: TwoFactorMethod; result: T } | null;
    try {
      outcome = await this.database.transaction(async (manager) => {
        const now = this.clock.now();
        const current = await this.users.lock(manager, request.userId, now);
        const lockedNow = this.isLocked(current.failedAttemptsInRow);
        for (const verifier of request.verifiers) {
          if (!verifier.accepts(code)) continue;
          if (lockedNow && verifier.method !== TwoFactorMethod.RECOVERY_CODE) continue;
          if (!(await verifier.verify(manager, request.userId, code, request.purpose))) continue;
          if (current.failedAttemptsInRow > 0) await this.users.update(manager, request.userId, { failedAttemptsInRow: 0 });
          if (verifier.method === TwoFactorMethod.RECOVERY_CODE) {
            await this.audit.record(manager, request.actor, { action: 'RECOVERY_CODE_USED', userId: request.userId }, now);
          } else {
            await this.factors.touch(manager, verifier.method, request.userId, now);
          }
          return { method: verifier.method, result: await request.onSuccess(manager, verifier.method, now) };
        }
        return null;
      }, { retryDeadlocks: false });
    } catch (error) {
      // The check did not complete (or the code was right and its effect was refused): no failure.
      await this.limits.forgive(request.userId).catch(() => undefined);
      throw error;
    }
    if (outcome) {
      // Committed: the answer stands even if the store fails now (the attempt then
      // stays counted, erring on the safe side).
      await this.limits.forgive(request.userId).catch(() => undefined);
      return outcome;
    }
    await this.recordFailure(request, code);
    throw new AppError('INVALID_CODE', 'The code is not valid.');
  }

  private async recordFailure(request: CodeCheck<unknown>, code: string): Promise<void> {
    const shaped = request.verifiers.some((verifier) => verifier.accepts(code));
    await this.database.transaction(async (manager) => {
      const now = this.clock.now();
      await this.users.lock(manager, request.userId, now);
      await this.users.addFailure(manager, request.userId);
      const reason = shaped ? `wrong, used or expired code (${request.purpose.kind})` : `malformed code (${request.purpose.kind})`;
      await this.audit.record(manager, request.actor, { action: request.failureAction, userId: request.userId, reason }, now);
      const user = await this.users.find(manager, request.userId);
      if (user?.failedAttemptsInRow === this.lockAfterFailures) {
        await this.audit.record(manager, request.actor, { action: 'TWO_FACTOR_LOCKED', userId: request.userId }, now);
      }
    });
  }

  private isLocked(failedAttemptsInRow: number): boolean {
    return failedAttemptsInRow >= this.lockAfterFailures;
  }
}

const locked = () =>
  new AppError('TWO_FACTOR_LOCKED', 'Two-factor is locked after too many failed attempts: use a recovery code, or ask an admin to reset it.');
