import type { AnswerChecker } from '../attempts/answer-checker';
import type { AttemptLimits } from '../attempts/attempt-limits';
import type { FactorRegistry } from '../attempts/factor-registry';
import type { AuditLog } from '../audit/audit-log';
import type { Config } from '../config/config';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store/store';
import { LIMITS } from '../limits';
import type { Module } from '../module';
import type { TrustedDeviceService } from '../trusted-devices/trusted-device.service';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import { AssertionSigner } from './assertion-signer';
import { ChallengeStore } from './challenge-store';
import { LoginResolver, LoginVerificationResolver } from './login.resolver';
import { LoginService } from './login.service';
import { SpentLoginChallengeRecord } from './spent-login-challenge.entity';
import { SpentLoginChallenges } from './spent-login-challenges';

interface LoginNeeds {
  config: Pick<Config, 'assertion'>;
  database: Database;
  store: Store;
  secrets: SecretBox;
  storeKeys: StoreKeyHash;
  clock: Clock;
  logger: Logger;
  metrics: Pick<Metrics, 'countLogin'>;
  audit: AuditLog;
  checker: AnswerChecker;
  attemptLimits: AttemptLimits;
  factors: FactorRegistry;
  statuses: TwoFactorStatusReader;
  trustedDevices: TrustedDeviceService;
  spentLoginChallenges: SpentLoginChallenges;
  loginChallenges: ChallengeStore;
}

interface LoginGives {
  spentLoginChallenges: SpentLoginChallenges;
  /** Pending login challenges (what a login SMS is sent for). */
  loginChallenges: ChallengeStore;
}

/** The second step of a login: challenges, their answers, the signed assertion. */
export const loginModule: Module<LoginNeeds, LoginGives> = {
  name: 'login',
  entities: [SpentLoginChallengeRecord],
  resolvers: [LoginResolver, LoginVerificationResolver],
  provides: {
    spentLoginChallenges: ({ database, clock }) => new SpentLoginChallenges(database, clock),
    loginChallenges: ({ store, secrets, storeKeys, spentLoginChallenges, clock }) =>
      new ChallengeStore(store, secrets, storeKeys, spentLoginChallenges, clock),
  },
  create(r) {
    const login = new LoginService({
      challenges: r.loginChallenges,
      spentChallenges: r.spentLoginChallenges,
      checker: r.checker,
      limits: r.attemptLimits,
      registry: r.factors,
      statuses: r.statuses,
      signer: new AssertionSigner(r.config.assertion),
      trustedDevices: r.trustedDevices,
      metrics: r.metrics,
      audit: r.audit,
      clock: r.clock,
    });
    const every = LIMITS.backgroundJobIntervalSeconds * 1000;
    return {
      resolvers: [new LoginResolver(login), new LoginVerificationResolver(r.statuses)],
      background: [
        new PeriodicJob(
          'spent login challenges',
          every,
          () => r.spentLoginChallenges.purgeExpired(LIMITS.purgeBatchSize),
          r.logger,
        ),
      ],
    };
  },
};
