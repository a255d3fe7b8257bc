import type { EntityManager } from 'typeorm';
import type { Actor } from '../audit/audit-log';
import type { CodeChecker } from '../attempts/code-checker';
import type { Caller } from '../callers/caller';
import { AppError } from '../errors';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { PendingSetupRecord } from '../infra/db/entities';
import type { FactorMethod, FactorRepository } from '../infra/db/repositories/factor.repository';
import type { StepUp } from '../step-up/step-up';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { EnrollmentGuard } from './enrollment-guard';
import type { CodeVerifier } from './factor';
import type { TwoFactorLifecycle } from './two-factor-lifecycle';
import type { TwoFactorSetupResult } from './two-factor.types';

const SETUP_TTL_MS = 10 * 60 * 1000;

export interface NewFactor {
  method: FactorMethod;
  /** The TOTP secret or the phone number: stored encrypted while pending. */
  secret: string;
  /** The phone number's keyed hash and mask (SMS only). */
  lookupHash?: string;
  display?: string;
}

/**
 * Enrolling a factor, the same for every kind: start (a pending setup that
 * changes nothing; with two-factor on, behind a step-up, else behind a recent
 * sign-in), then confirm with the new factor's own code, which in one
 * transaction binds the factor and, for the first one, turns two-factor on.
 */
export class FactorSetup {
  constructor(
    private readonly database: Database,
    private readonly factors: FactorRepository,
    private readonly checker: CodeChecker,
    private readonly stepUp: StepUp,
    private readonly lifecycle: TwoFactorLifecycle,
    private readonly enrollment: EnrollmentGuard,
    private readonly statuses: TwoFactorStatusReader,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** Saves the pending setup (replacing an earlier one); returns when it expires. */
  async start(caller: Caller, actor: Actor, code: string | null | undefined, factor: NewFactor): Promise<Date> {
    const userId = caller.subject;
    const expiresAt = new Date(this.clock.now().getTime() + SETUP_TTL_MS);
    const pending = (createdAt: Date): PendingSetupRecord => ({
      userId,
      method: factor.method,
      payloadCiphertext: this.secrets.encrypt(factor.secret),
      lookupHash: factor.lookupHash ?? null,
      display: factor.display ?? null,
      expiresAt,
      createdAt,
    });
    if (await this.stepUp.isEnabled(userId)) {
      await this.stepUp.require(actor, userId, code, (manager, _method, now) => this.factors.savePending(manager, pending(now)));
    } else {
      this.enrollment.assertRecentSignIn(caller);
      await this.database.transaction((manager) => this.factors.savePending(manager, pending(this.clock.now())));
    }
    return expiresAt;
  }

  /**
   * Confirms the pending setup with `code`, checked by the verifier made for
   * its secret; `bind` stores the confirmed factor in the same transaction.
   */
  async confirm(
    caller: Caller,
    actor: Actor,
    code: string,
    method: FactorMethod,
    verifierFor: (secret: string, pending: PendingSetupRecord) => CodeVerifier,
    bind: (manager: EntityManager, pending: PendingSetupRecord, now: Date) => Promise<void>,
  ): Promise<TwoFactorSetupResult> {
    const userId = caller.subject;
    const pending = await this.database.run((manager) => this.factors.findPending(manager, userId, method));
    if (!pending || pending.expiresAt <= this.clock.now()) throw noPendingSetup(method);
    if (!(await this.stepUp.isEnabled(userId))) this.enrollment.assertRecentSignIn(caller);
    const { result } = await this.checker.check({
      userId,
      code,
      verifiers: [verifierFor(this.secrets.decrypt(pending.payloadCiphertext), pending)],
      purpose: { kind: 'setup', userId },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess: async (manager, _method, now) => {
        // Started again meanwhile: this code belongs to a setup that is gone.
        const current = await this.factors.findPending(manager, userId, method);
        if (current?.payloadCiphertext !== pending.payloadCiphertext) throw noPendingSetup(method);
        await this.factors.deletePending(manager, userId, method);
        await bind(manager, pending, now);
        const recoveryCodes = await this.lifecycle.completeEnrollment(manager, actor, userId, method, now);
        // Read before the commit: once it commits, the answer must not depend on anything else working.
        return { status: await this.statuses.readIn(manager, userId), recoveryCodes };
      },
    });
    return result;
  }
}

const noPendingSetup = (method: FactorMethod) =>
  new AppError('NOT_FOUND', `No ${method === 'TOTP' ? 'TOTP' : 'phone number'} setup is pending: start it again.`);
