import type { AnswerChecker } from '../attempts/answer-checker';
import type { AttemptLimits } from '../attempts/attempt-limits';
import type { FactorRegistry } from '../attempts/factor-registry';
import type { Answer } from '../attempts/second-factor';
import type { AuditLog } from '../audit/audit-log';
import { type SignInStrength, deviceStartAcr, deviceStartAmr, strengthOf } from '../callers/amr';
import type { Actor } from '../callers/caller';
import type { LoginMethod, Metrics } from '../http/metrics';
import type { Clock } from '../infra/clock';
import { randomId } from '../infra/crypto/random';
import { LIMITS } from '../limits';
import type { IssuedDeviceToken, TrustedDeviceService } from '../trusted-devices/trusted-device.service';
import { TwoFactorMethod } from '../users/two-factor-method';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { TwoFactorStatus } from '../users/user.types';
import type { AssertionSigner } from './assertion-signer';
import { type ChallengeStore, challengeNotFound } from './challenge-store';
import type { LoginChallenge, LoginVerification } from './login.types';
import type { SpentLoginChallenges } from './spent-login-challenges';

export interface LoginServiceDependencies {
  challenges: ChallengeStore;
  spentChallenges: SpentLoginChallenges;
  checker: AnswerChecker;
  limits: AttemptLimits;
  registry: FactorRegistry;
  statuses: TwoFactorStatusReader;
  signer: AssertionSigner;
  trustedDevices: TrustedDeviceService;
  metrics: Pick<Metrics, 'countLogin'>;
  audit: AuditLog;
  clock: Clock;
}

/** "Remember this browser" at verification: asked, with the name the login service gave. */
export interface RememberDevice {
  deviceName?: string | null;
}

/**
 * The second step of a login: the login service opens a challenge after the
 * password step; the user answers it with any registered factor; the answer
 * comes back as a signed assertion. A trusted device's token, presented when
 * the challenge is opened, can stand in for the answer.
 */
export class LoginService {
  constructor(private readonly deps: LoginServiceDependencies) {}

  /**
   * A user without two-factor gets a challenge too (methods: []): nothing verifies it.
   * With a `deviceToken` that signs the user in (TrustedDeviceService.signIn), the
   * challenge comes back already spent, with its assertion (amr ["device"], plus
   * "hwk" when the device was remembered at a sign-in with a key); any other
   * token is ignored.
   */
  async start(actor: Actor, userId: string, deviceToken?: string | null): Promise<LoginChallenge> {
    if (deviceToken !== null && deviceToken !== undefined) {
      // The device and the status in one round trip, the device's use and its audit event with the COMMIT.
      const { statuses } = this.deps;
      const { trusted, rows } = await this.deps.trustedDevices.signInReading(
        { ...actor, actorId: userId },
        userId,
        deviceToken,
        [statuses.statement(userId)],
      );
      const status = rows ? statuses.statusOf(userId, rows[0]) : await statuses.readOne(userId);
      if (trusted) {
        const { signInStrength } = trusted;
        return this.spentByDevice(userId, status, deviceStartAmr(signInStrength), deviceStartAcr(signInStrength));
      }
      return this.open(userId, status);
    }
    return this.open(userId, await this.deps.statuses.readOne(userId));
  }

  private async open(userId: string, status: TwoFactorStatus): Promise<LoginChallenge> {
    const challenge = await this.deps.challenges.open(userId);
    return {
      id: challenge.id,
      userId,
      methods: methodsOf(status),
      phoneNumberMasked: status.sms?.phoneNumberMasked ?? null,
      expiresAt: challenge.expiresAt,
      assertion: null,
    };
  }

  /**
   * Never stored, so nothing can answer it: spent from the start. Its id is as
   * unguessable as any challenge's, and is the assertion's jti; it expires as
   * any challenge would, so a login service that keeps opened challenges until
   * then accepts the assertion unchanged.
   */
  private async spentByDevice(
    userId: string,
    status: TwoFactorStatus,
    amr: string[],
    acr: SignInStrength,
  ): Promise<LoginChallenge> {
    const now = this.deps.clock.now();
    const id = randomId();
    const assertion = await this.deps.signer.sign(userId, id, amr, now, acr);
    this.deps.metrics.countLogin('device');
    return {
      id,
      userId,
      methods: methodsOf(status),
      phoneNumberMasked: status.sms?.phoneNumberMasked ?? null,
      expiresAt: new Date(now.getTime() + LIMITS.challengeTtlSeconds * 1000),
      assertion,
    };
  }

  /**
   * Errors keep the contract's precedence: TWO_FACTOR_LOCKED, RATE_LIMITED,
   * CHALLENGE_NOT_FOUND, INVALID_CODE. Every attempt counts per IP, per user and
   * per challenge before the answer is checked. With `remember`, the success
   * also makes a trusted device, in the same transaction, when allowed.
   */
  async verify(
    actor: Actor,
    challengeId: string,
    answer: Answer,
    remember: RememberDevice | null = null,
  ): Promise<LoginVerification> {
    const { challenges, spentChallenges, limits, audit, trustedDevices } = this.deps;
    // A bad name or a malformed answer is refused before anything is counted.
    const deviceName = remember ? trustedDevices.parseName(remember.deviceName) : null;
    this.deps.checker.prepare(answer, this.deps.registry.all());
    // One round trip to the store: the attempt counted per IP and, for a challenge that exists, per challenge.
    const keys = challenges.admission(challengeId);
    const admission = await limits.admit(actor.clientIp, keys ?? undefined);
    const challenge = keys && challenges.parse(challengeId, admission.challengeValue);
    if (!challenge) throw admission.refusal?.code === 'RATE_LIMITED' ? admission.refusal : challengeNotFound();
    const userActor = { ...actor, actorId: challenge.userId };
    const { method, result } = await this.deps.checker.check({
      userId: challenge.userId,
      answer,
      factors: this.deps.registry.all(),
      purpose: { kind: 'login', userId: challenge.userId, challengeId: challenge.id },
      actor: userActor,
      failureAction: 'LOGIN_FAILED',
      admission,
      // Spent by an earlier success: read with the user's row lock, so of two right answers only the first commits.
      guard: {
        reads: [spentChallenges.read(challenge.hash)],
        check: ([spent]) => {
          if (spent.length > 0) throw challengeNotFound();
        },
      },
      onSuccess: async (manager, answeredWith, now, amr, acr) => {
        const strength = strengthOf(amr, acr);
        await spentChallenges.spendIn(manager, challenge.hash, challenge.userId, challenge.expiresAt);
        await audit.record(
          manager,
          userActor,
          { action: 'LOGIN_VERIFIED', userId: challenge.userId, reason: answeredWith },
          now,
        );
        const device: IssuedDeviceToken | null =
          deviceName === null
            ? null
            : await trustedDevices.rememberIn(manager, userActor, challenge.userId, deviceName, strength, now);
        return { amr, strength, now, device };
      },
    });
    // Signed once committed: the user's row is not held while the key works.
    const assertion = await this.deps.signer.sign(
      challenge.userId,
      challenge.id,
      result.amr,
      result.now,
      result.strength,
    );
    this.deps.metrics.countLogin(method.toLowerCase() as LoginMethod);
    if (result.device !== null) await trustedDevices.purgeExpired();
    return {
      userId: challenge.userId,
      method,
      assertion,
      deviceToken: result.device?.token ?? null,
      deviceTokenExpiresAt: result.device?.expiresAt ?? null,
    };
  }
}

/** The methods a user can answer with: its factors, and RECOVERY_CODE while codes remain; none without two-factor. */
const methodsOf = (status: TwoFactorStatus): TwoFactorMethod[] =>
  status.enabled
    ? [...status.methods, ...(status.recoveryCodesRemaining > 0 ? [TwoFactorMethod.RECOVERY_CODE] : [])]
    : [];
