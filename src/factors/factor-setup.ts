import type { EntityManager } from 'typeorm';
import type { AnswerChecker } from '../attempts/answer-checker';
import type { Answer, Enrollment, FactorCheck, SecondFactor } from '../attempts/second-factor';
import type { StepUp } from '../attempts/step-up';
import type { Actor, Caller } from '../callers/caller';
import { AppError } from '../errors';
import type { Clock } from '../infra/clock';
import { CiphertextRefused, type SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import type { EnrolledMethod } from '../users/two-factor-method';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { EnrollmentGuard } from './enrollment-guard';
import { pendingSetupBinding, type PendingSetupRecord } from './pending-setup.entity';
import type { PendingSetupRepository } from './pending-setup.repository';
import type { TwoFactorLifecycle } from './two-factor-lifecycle';
import type { TwoFactorSetupResult } from './two-factor.types';

export interface NewFactor {
  method: EnrolledMethod;
  /** The TOTP secret or the phone number: stored encrypted while pending. */
  secret: string;
  /** The phone number's keyed hash and mask (SMS only). */
  lookupHash?: string;
  display?: string;
  /** The language of the number's SMS (SMS only), kept on the number once confirmed. */
  smsLocale?: string;
  /** When the pending setup lapses, if not after LIMITS.pendingSetupTtlSeconds. */
  ttlSeconds?: number;
}

/** How a factor being enrolled checks its first answer and binds itself. */
export interface PendingConfirmation {
  factor: SecondFactor & { enrollment: Enrollment };
  /** The shape of a confirming answer, when it differs from the factor's own answers. */
  accepts?(answer: Answer): boolean;
  /** Checks the answer against the pending secret, which is not the user's factor yet (under the user's row lock). */
  verify(check: FactorCheck, secret: string, pending: PendingSetupRecord): Promise<boolean>;
  /**
   * A user has one of this kind (an authenticator app, a phone number): the new
   * one replaces the old, which is removed first as removeTotp/removeSms would.
   */
  replaces?: boolean;
  /** Stores the confirmed factor (sealing `secret` to its own row), in the confirmation's transaction. */
  bind(manager: EntityManager, pending: PendingSetupRecord, now: Date, secret: string): Promise<void>;
}

export interface FactorSetupDependencies {
  database: Database;
  pendingSetups: PendingSetupRepository;
  checker: AnswerChecker;
  stepUp: StepUp;
  lifecycle: TwoFactorLifecycle;
  enrollment: EnrollmentGuard;
  statuses: TwoFactorStatusReader;
  secrets: SecretBox;
  clock: Clock;
}

/**
 * Enrolling a factor, the same for every kind: start (a pending setup that
 * changes nothing; with two-factor on, behind a step-up, else behind a recent
 * sign-in), then confirm with the new factor's own answer, which in one
 * transaction binds the factor and, for the first one, turns two-factor on.
 */
export class FactorSetup {
  constructor(private readonly deps: FactorSetupDependencies) {}

  /** Saves the pending setup (replacing an earlier one); returns when it expires. */
  async start(caller: Caller, actor: Actor, stepUp: Answer, factor: NewFactor): Promise<Date> {
    const { database, pendingSetups, secrets, clock } = this.deps;
    const userId = caller.subject;
    const expiresAt = new Date(clock.now().getTime() + (factor.ttlSeconds ?? LIMITS.pendingSetupTtlSeconds) * 1000);
    const pending = (createdAt: Date): PendingSetupRecord => ({
      userId,
      method: factor.method,
      payloadCiphertext: secrets.seal(factor.secret, pendingSetupBinding(userId, factor.method)),
      lookupHash: factor.lookupHash ?? null,
      display: factor.display ?? null,
      smsLocale: factor.smsLocale ?? null,
      expiresAt,
      createdAt,
    });
    if (!(await this.deps.stepUp.isEnabled(userId))) {
      this.deps.enrollment.assertRecentSignIn(caller);
      // Checked again under the user's lock: two-factor may have turned on since (then a step-up is needed after all).
      const saved = await database.transaction(async (manager) => {
        const now = clock.now();
        if (await this.deps.lifecycle.lockedIsOn(manager, userId, now)) return false;
        await pendingSetups.save(manager, pending(now));
        return true;
      });
      if (saved) return expiresAt;
    }
    await this.deps.stepUp.require(actor, userId, stepUp, (manager, _method, now) =>
      pendingSetups.save(manager, pending(now)),
    );
    return expiresAt;
  }

  /** Confirms the pending setup with `answer`; `confirmation.bind` stores the factor in the same transaction. */
  async confirm(
    caller: Caller,
    actor: Actor,
    answer: Answer,
    confirmation: PendingConfirmation,
  ): Promise<TwoFactorSetupResult> {
    const { database, pendingSetups, secrets, clock, lifecycle, statuses } = this.deps;
    const userId = caller.subject;
    const { enrollment } = confirmation.factor;
    const pending = await database.run((manager) => pendingSetups.find(manager, userId, enrollment.method));
    if (!pending || pending.expiresAt <= clock.now()) throw noPendingSetup(enrollment);
    if (!(await this.deps.stepUp.isEnabled(userId))) this.deps.enrollment.assertRecentSignIn(caller);
    const secret = openPending(secrets, pending, enrollment);
    const pendingFactor: SecondFactor = {
      method: confirmation.factor.method,
      refusedWhenLocked: true,
      accepts: (given) => (confirmation.accepts ?? confirmation.factor.accepts.bind(confirmation.factor))(given),
      verify: async (check) => {
        // Under the user's lock, before the answer is checked: a setup confirmed meanwhile (a double submit),
        // started again or discarded is gone, and its answer is NOT_FOUND, not a failure (every change to
        // pending setups holds this lock).
        const current = await pendingSetups.find(check.manager, userId, enrollment.method);
        if (current?.payloadCiphertext !== pending.payloadCiphertext) throw noPendingSetup(enrollment);
        return (await confirmation.verify(check, secret, pending)) ? { amr: [] } : null;
      },
    };
    const { result } = await this.deps.checker.check({
      userId,
      answer,
      factors: [pendingFactor],
      purpose: { kind: 'setup', userId },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess: async (manager, _method, now) => {
        await pendingSetups.delete(manager, userId, enrollment.method);
        if (confirmation.replaces) await lifecycle.removeReplaced(manager, actor, userId, enrollment, now);
        const before = await lifecycle.credentialsOf(manager, userId, enrollment);
        await confirmation.bind(manager, pending, now, secret);
        const recoveryCodes = await lifecycle.completeEnrollment(manager, actor, userId, enrollment, now, before);
        // Read before the commit: once it commits, the answer must not depend on anything else working.
        return { status: await statuses.readIn(manager, userId), recoveryCodes };
      },
    });
    return result;
  }
}

/** A pending secret that does not open for its row is as good as none: the setup starts again (the refusal is audited). */
function openPending(secrets: SecretBox, pending: PendingSetupRecord, enrollment: Enrollment): string {
  try {
    return secrets.open(pending.payloadCiphertext, pendingSetupBinding(pending.userId, pending.method));
  } catch (error) {
    if (error instanceof CiphertextRefused) throw noPendingSetup(enrollment);
    throw error;
  }
}

const noPendingSetup = (enrollment: Enrollment) =>
  new AppError('NOT_FOUND', `No ${enrollment.noun} setup is pending: start it again.`);
