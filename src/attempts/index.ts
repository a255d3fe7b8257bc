import type { AuditLog } from '../audit/audit-log';
import type { Config } from '../config/config';
import type { Clock } from '../infra/clock';
import type { StoreKeyHash } from '../infra/crypto/store-key-hash';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import type { Store } from '../infra/store/store';
import type { Module } from '../module';
import type { OrganizationMembers } from '../organizations/organization-members';
import type { UserRepository } from '../users/user.repository';
import { AnswerChecker } from './answer-checker';
import { AttemptLimits } from './attempt-limits';
import type { FactorRegistry } from './factor-registry';
import { StepUp } from './step-up';

interface AttemptsNeeds {
  config: Pick<Config, 'limits'>;
  database: Database;
  store: Store;
  storeKeys: StoreKeyHash;
  clock: Clock;
  logger: Logger;
  users: UserRepository;
  audit: AuditLog;
  factors: FactorRegistry;
  organizationMembers: OrganizationMembers;
  attemptLimits: AttemptLimits;
  checker: AnswerChecker;
}

interface AttemptsGives {
  attemptLimits: AttemptLimits;
  /** The one path every answer takes (docs/adr/0001-one-answer-checking-path.md). */
  checker: AnswerChecker;
  stepUp: StepUp;
}

/** Counting, checking and spending answers: login, step-up and confirmations alike. */
export const attemptsModule: Module<AttemptsNeeds, AttemptsGives> = {
  name: 'attempts',
  provides: {
    attemptLimits: ({ store, config, storeKeys }) => new AttemptLimits(store, config.limits, storeKeys),
    checker: ({ database, users, attemptLimits, audit, clock, logger }) =>
      new AnswerChecker({ database, users, limits: attemptLimits, audit, clock, logger }),
    stepUp: ({ checker, factors, database, users, organizationMembers }) =>
      new StepUp(checker, factors, database, users, organizationMembers),
  },
};
