import type { AnswerChecker } from '../attempts/answer-checker';
import type { AttemptLimits } from '../attempts/attempt-limits';
import type { Actor, AuditLog } from '../audit/audit-log';
import type { Answer } from '../factors/factor';
import { TwoFactorMethod } from '../factors/method';
import type { FactorRegistry } from '../factors/registry';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { AssertionSigner } from './assertion-signer';
import { type ChallengeStore, challengeNotFound } from './challenge-store';
import type { LoginChallenge, LoginVerification } from './login.types';

export interface LoginServiceDependencies {
  challenges: ChallengeStore;
  checker: AnswerChecker;
  limits: AttemptLimits;
  registry: FactorRegistry;
  statuses: TwoFactorStatusReader;
  signer: AssertionSigner;
  audit: AuditLog;
}

/**
 * The second step of a login: the login service opens a challenge after the
 * password step; the user answers it with any registered factor; the answer
 * comes back as a signed assertion.
 */
export class LoginService {
  constructor(private readonly deps: LoginServiceDependencies) {}

  /** A user without two-factor gets a challenge too (methods: []): nothing verifies it. */
  async start(userId: string): Promise<LoginChallenge> {
    const status = await this.deps.statuses.readOne(userId);
    const challenge = await this.deps.challenges.open(userId);
    const methods = status.enabled
      ? [...status.methods, ...(status.recoveryCodesRemaining > 0 ? [TwoFactorMethod.RECOVERY_CODE] : [])]
      : [];
    return {
      id: challenge.id,
      userId,
      methods,
      phoneNumberMasked: status.sms?.phoneNumberMasked ?? null,
      expiresAt: challenge.expiresAt,
    };
  }

  /**
   * Errors keep the contract's precedence: TWO_FACTOR_LOCKED, RATE_LIMITED,
   * CHALLENGE_NOT_FOUND, INVALID_CODE. Every attempt counts per IP, per user and
   * per challenge before the answer is checked.
   */
  async verify(actor: Actor, challengeId: string, answer: Answer): Promise<LoginVerification> {
    const { challenges, limits, statuses, signer, audit } = this.deps;
    const challenge = await challenges.find(challengeId);
    if (!challenge) {
      await limits.admitIp(actor.clientIp);
      throw challengeNotFound();
    }
    const userActor = { ...actor, actorId: challenge.userId };
    const { method, result } = await this.deps.checker.check({
      userId: challenge.userId,
      answer,
      factors: this.deps.registry.all(),
      purpose: { kind: 'login', userId: challenge.userId, challengeId: challenge.id },
      actor: userActor,
      failureAction: 'LOGIN_FAILED',
      countAttempt: async () => {
        if (!(await challenges.countAttempt(challenge.id))) throw challengeNotFound();
      },
      onSuccess: async (manager, answeredWith, now, amr) => {
        // Spent inside the transaction: if another request spent it first, this one rolls back.
        if (!(await challenges.spend(challenge.id))) throw challengeNotFound();
        await audit.record(
          manager,
          userActor,
          { action: 'LOGIN_VERIFIED', userId: challenge.userId, reason: answeredWith },
          now,
        );
        const recoveryCodesRemaining = await statuses.recoveryCodesRemainingIn(manager, challenge.userId);
        const assertion = await signer.sign(challenge.userId, challenge.id, amr, now);
        return { assertion, recoveryCodesRemaining };
      },
    });
    return { userId: challenge.userId, method, ...result };
  }
}
