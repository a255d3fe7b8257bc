import type { StepUp } from '../attempts/step-up';
import type { AuditLog } from '../audit/audit-log';
import type { Config } from '../config/config';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { Database } from '../infra/db/database';
import type { UserRepository } from '../infra/db/repositories/user.repository';
import type { Logger } from '../infra/logger';
import type { SmsSender } from '../infra/sms-sender/sms-sender';
import type { Store } from '../infra/store/store';
import type { ChallengeStore } from '../login/challenge-store';
import type { SecondFactor } from './factor';
import type { FactorSetup } from './factor-setup';
import type { RecoveryCodeIssuer } from './recovery-codes/recovery-code-issuer';
import type { RecoveryCodeRepository } from './recovery-codes/recovery-code.repository';
import type { TwoFactorLifecycle } from './two-factor-lifecycle';
import type { TwoFactorService } from './two-factor.service';

/** What the composition root offers every factor; each takes only what it needs. */
export interface FactorModuleDependencies {
  config: Config;
  clock: Clock;
  database: Database;
  store: Store;
  secrets: SecretBox;
  storeKeys: StoreKeyHash;
  metrics: Metrics;
  smsSender: SmsSender;
  users: UserRepository;
  audit: AuditLog;
  recoveryCodes: RecoveryCodeRepository;
  issuer: RecoveryCodeIssuer;
  setup: FactorSetup;
  stepUp: StepUp;
  twoFactor: TwoFactorService;
  challenges: ChallengeStore;
  lifecycle: TwoFactorLifecycle;
  logger: Logger;
}

/**
 * One second factor, as one folder under factors/ offers it to the rest of the
 * service (Kratos' strategies): its tables, its GraphQL operations, and the
 * factor the answer-checking path tries. Listed once in factors/modules.ts.
 */
export interface FactorModule {
  /** TypeORM entities of this factor's tables (their migrations: infra/db/migrations). */
  entities: Function[];
  /** Resolver classes, for the schema. */
  resolvers: Function[];
  create(deps: FactorModuleDependencies): { factor: SecondFactor; resolvers: object[] };
}
