import type { Actor, AuditLog } from '../audit/audit-log';
import type { AttemptLimits } from '../attempts/attempt-limits';
import type { CodeChecker } from '../attempts/code-checker';
import { AppError } from '../errors';
import type { CodeVerifier } from '../factors/factor';
import type { SentCode } from '../factors/sms/sms-dispatcher';
import type { SmsService } from '../factors/sms/sms.service';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import { TwoFactorMethod } from '../users/user.types';
import type { AssertionSigner } from './assertion-signer';
import type { ChallengeStore } from './challenge-store';
import type { LoginChallenge, LoginVerification } from './login.types';

/**
 * The second step of a login: the login service opens a challenge after the
 * password step; the user answers it with a TOTP code, the challenge's SMS code
 * or a recovery code; the answer comes back as a signed assertion.
 */
export class LoginService {
  constructor(
    private readonly challenges: ChallengeStore,
    private readonly checker: CodeChecker,
    private readonly limits: AttemptLimits,
    private readonly verifiers: CodeVerifier[],
    private readonly sms: SmsService,
    private readonly statuses: TwoFactorStatusReader,
    private readonly signer: AssertionSigner,
    private readonly audit: AuditLog,
  ) {}

  /** A user without two-factor gets a challenge too (methods: []): nothing verifies it. */
  async start(userId: string): Promise<LoginChallenge> {
    const status = await this.statuses.readOne(userId);
    const challenge = await this.challenges.open(userId);
    const methods = status.enabled
      ? [...status.methods, ...(status.recoveryCodesRemaining > 0 ? [TwoFactorMethod.RECOVERY_CODE] : [])]
      : [];
    return { id: challenge.id, userId, methods, phoneNumberMasked: status.sms?.phoneNumberMasked ?? null, expiresAt: challenge.expiresAt };
  }

  async sendSmsCode(actor: Actor, challengeId: string): Promise<SentCode> {
    const challenge = await this.challenges.find(challengeId);
    if (!challenge || (await this.challenges.isExhausted(challenge.id))) throw challengeNotFound();
    return this.sms.sendLoginCode({ ...actor, actorId: challenge.userId }, challenge.userId, challenge.id);
  }

  /**
   * Errors keep the contract's precedence: TWO_FACTOR_LOCKED, RATE_LIMITED,
   * CHALLENGE_NOT_FOUND, INVALID_CODE. Every attempt counts per IP, per user and
   * per challenge before the code is checked.
   */
  async verify(actor: Actor, challengeId: string, code: string): Promise<LoginVerification> {
    const challenge = await this.challenges.find(challengeId);
    if (!challenge) {
      await this.limits.admitIp(actor.clientIp);
      throw challengeNotFound();
    }
    const userActor = { ...actor, actorId: challenge.userId };
    const { method, result } = await this.checker.check({
      userId: challenge.userId,
      code,
      verifiers: this.verifiers,
      purpose: { kind: 'login', userId: challenge.userId, challengeId: challenge.id },
      actor: userActor,
      failureAction: 'LOGIN_FAILED',
      countAttempt: async () => {
        if (!(await this.challenges.countAttempt(challenge.id))) throw challengeNotFound();
      },
      onSuccess: async (manager, answeredWith, now) => {
        // Spent inside the transaction: if another request spent it first, this one rolls back.
        if (!(await this.challenges.spend(challenge.id))) throw challengeNotFound();
        await this.audit.record(manager, userActor, { action: 'LOGIN_VERIFIED', userId: challenge.userId, reason: answeredWith }, now);
        const status = await this.statuses.readIn(manager, challenge.userId);
        const assertion = await this.signer.sign(challenge.userId, challenge.id, answeredWith, now);
        return { assertion, recoveryCodesRemaining: status.recoveryCodesRemaining };
      },
    });
    return { userId: challenge.userId, method, ...result };
  }
}

const challengeNotFound = () => new AppError('CHALLENGE_NOT_FOUND', 'The login challenge is unknown, expired, spent or exhausted: start the login again.');
