import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import { AuditLog } from './audit/audit-log';
import { AuditQueryService } from './audit/audit-query.service';
import { AuditResolver } from './audit/audit.resolver';
import { AdminResolver } from './admin/admin.resolver';
import { AdminService } from './admin/admin.service';
import { TokenVerifier } from './callers/token-verifier';
import type { Config } from './config/config';
import { AttemptLimits } from './attempts/attempt-limits';
import { CodeChecker } from './attempts/code-checker';
import { DirectoryResolver } from './directory/directory.resolver';
import { EnrollmentGuard } from './factors/enrollment-guard';
import { FactorSetup } from './factors/factor-setup';
import { RecoveryCodeIssuer } from './factors/recovery-codes/recovery-code-issuer';
import { RecoveryCodeVerifier } from './factors/recovery-codes/recovery-code.verifier';
import { RecoveryCodesResolver } from './factors/recovery-codes/recovery-codes.resolver';
import { RecoveryCodesService } from './factors/recovery-codes/recovery-codes.service';
import { SmsCodeStore } from './factors/sms/sms-code-store';
import { SmsDispatcher } from './factors/sms/sms-dispatcher';
import { SmsSendLimits } from './factors/sms/sms-send-limits';
import { SmsResolver } from './factors/sms/sms.resolver';
import { SmsService } from './factors/sms/sms.service';
import { SmsVerifier } from './factors/sms/sms.verifier';
import { LogSmsSender } from './infra/sms-sender/log-sms-sender';
import type { SmsSender } from './infra/sms-sender/sms-sender';
import { SnsSmsSender } from './infra/sms-sender/sns-sms-sender';
import { TotpResolver } from './factors/totp/totp.resolver';
import { singleCodeCheckRule } from './graphql/code-field-limit';
import { aliasAndRootFieldRule, DOCUMENT_LIMITS, shapeRule } from './graphql/document-limits';
import { AssertionSigner } from './login/assertion-signer';
import { ChallengeStore } from './login/challenge-store';
import { LoginResolver } from './login/login.resolver';
import { LoginService } from './login/login.service';
import { TotpService } from './factors/totp/totp.service';
import { TotpVerifier } from './factors/totp/totp.verifier';
import { TwoFactorLifecycle } from './factors/two-factor-lifecycle';
import { TwoFactorResolver } from './factors/two-factor.resolver';
import { TwoFactorService } from './factors/two-factor.service';
import { SecretBox } from './infra/crypto/cipher';
import { StoreKeyHash } from './infra/crypto/store-key-hash';
import { StepUp } from './step-up/step-up';
import { DirectoryService } from './directory/directory.service';
import { buildGraphQLSchema } from './graphql/schema';
import { Metrics } from './http/metrics';
import { createHttpServer } from './http/server';
import { type Clock, systemClock } from './infra/clock';
import { Database } from './infra/db/database';
import { createDataSource, detectMysqlFlavor } from './infra/db/data-source';
import { migrate } from './infra/db/migrate';
import { AuditEventRepository } from './infra/db/repositories/audit-event.repository';
import { FactorRepository, RecoveryCodeRepository } from './infra/db/repositories/factor.repository';
import { MembershipRepository } from './infra/db/repositories/membership.repository';
import { OrganizationRepository } from './infra/db/repositories/organization.repository';
import { UserRepository } from './infra/db/repositories/user.repository';
import { createLogger, type Logger } from './infra/logger';
import { MemoryStore } from './infra/store/memory-store';
import { RedisStore } from './infra/store/redis-store';
import type { Store } from './infra/store/store';
import { OrganizationResolver } from './organizations/organization.resolver';
import { OrganizationService } from './organizations/organization.service';
import { OrganizationPolicyService } from './organizations/organization-policy.service';
import { TwoFactorStatusReader } from './users/two-factor-status.reader';
import { UserResolver } from './users/user.resolver';

/** What the process entry (main.ts) and tests pass beside the config: time, where logs go, the Sandbox's token. */
export interface AppOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Prefix for every store key, so test runs do not see each other. */
  storeKeyPrefix?: string;
  /** The development token main.ts minted: put in the Sandbox page's headers (never in production). */
  sandboxToken?: string;
}

export interface App {
  fastify: FastifyInstance;
  /** /metrics alone, when METRICS_PORT is set; it listens when `fastify` does. */
  metricsServer?: FastifyInstance;
  database: Database;
  store: Store;
  logger: Logger;
  close(): Promise<void>;
}

/**
 * The one composition root: adapters, then services, then resolvers, schema and
 * server. Which database, store and SMS sender is decided here and nowhere else.
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;

  // Adapters
  const flavor = config.database.kind === 'mysql' ? await detectMysqlFlavor(config.database.url) : undefined;
  const dataSource = createDataSource(config.database, flavor);
  await dataSource.initialize();
  if (config.migrationsRun || config.database.kind === 'sqlite') await migrate(dataSource, logger);
  const database = new Database(dataSource);
  const store: Store =
    config.store.kind === 'memory' ? new MemoryStore() : await RedisStore.connect(config.store, overrides.storeKeyPrefix);

  // Repositories
  const users = new UserRepository(database);
  const organizations = new OrganizationRepository(database);
  const memberships = new MembershipRepository();
  const factors = new FactorRepository();
  const recoveryCodes = new RecoveryCodeRepository();
  const auditEvents = new AuditEventRepository();

  const secrets = new SecretBox(config.encryption.key, config.encryption.retiredKeys);

  // Services
  // Store keys that derive from numbers, users or challenge ids are keyed hashes (same key, same names on every instance).
  const storeKeys = new StoreKeyHash(config.encryption.key);
  const audit = new AuditLog(auditEvents);
  const statuses = new TwoFactorStatusReader(database, users, config.limits.failuresInRowToLock);
  const organizationService = new OrganizationService(database, organizations, memberships, clock);
  const directory = new DirectoryService(database, users, organizations, memberships, factors, auditEvents, audit, clock);

  // Second factors: each behind the CodeVerifier interface; this list is the
  // order in which a step-up or login code is tried.
  const totpVerifier = new TotpVerifier(factors, users, secrets, clock);
  const recoveryCodeVerifier = new RecoveryCodeVerifier(recoveryCodes, secrets, clock);
  const smsCodes = new SmsCodeStore(store, secrets, storeKeys, clock);
  const smsVerifier = new SmsVerifier(smsCodes, factors);
  const secondFactors = [totpVerifier, smsVerifier, recoveryCodeVerifier];

  const attemptLimits = new AttemptLimits(store, config.limits, storeKeys);
  const checker = new CodeChecker(database, users, factors, attemptLimits, audit, clock, config.limits.failuresInRowToLock);
  const stepUp = new StepUp(checker, secondFactors, database, users);
  const issuer = new RecoveryCodeIssuer(recoveryCodes, users, secrets);
  const lifecycle = new TwoFactorLifecycle(users, factors, recoveryCodes, issuer, memberships, organizations, audit);
  const enrollment = new EnrollmentGuard(clock, config.auth.reauthMaxAgeSeconds);
  const setup = new FactorSetup(database, factors, checker, stepUp, lifecycle, enrollment, statuses, secrets, clock);
  const totp = new TotpService(setup, factors, totpVerifier, config.totpIssuer);
  const recoveryCodesService = new RecoveryCodesService(stepUp, issuer, users, audit);
  const smsSender: SmsSender = config.sms.provider === 'sns' ? new SnsSmsSender(config.sms, logger) : new LogSmsSender(logger);
  const smsLimits = new SmsSendLimits(store, { daily: config.sms.dailyBudget, setupDaily: config.sms.setupDailyBudget }, storeKeys);
  const smsDispatcher = new SmsDispatcher(smsLimits, smsCodes, smsSender, clock, config.totpIssuer);
  const sms = new SmsService(setup, database, factors, smsCodes, smsDispatcher, secrets, audit, clock, config.sms.allowedCountries);
  const login = new LoginService(
    new ChallengeStore(store, storeKeys, clock),
    checker,
    attemptLimits,
    secondFactors,
    sms,
    statuses,
    new AssertionSigner(config.assertion),
    audit,
  );
  const twoFactor = new TwoFactorService(database, factors, stepUp, lifecycle, statuses, audit);
  const organizationPolicy = new OrganizationPolicyService(database, organizations, memberships, audit, clock);
  const auditQuery = new AuditQueryService(database, auditEvents, memberships, organizations);
  const admin = new AdminService(database, users, factors, lifecycle, attemptLimits, statuses, audit, clock);

  // GraphQL and HTTP
  const metrics = new Metrics();
  metrics.watchSmsBudgets({ total: config.sms.dailyBudget, setup: config.sms.setupDailyBudget }, async () => {
    const used = await smsLimits.used();
    return { total: used.daily, setup: used.setupDaily };
  });
  const schema = await buildGraphQLSchema([
    new UserResolver(organizationService),
    new OrganizationResolver(organizationService, organizationPolicy),
    new DirectoryResolver(directory),
    new TotpResolver(totp),
    new SmsResolver(sms),
    new LoginResolver(login),
    new RecoveryCodesResolver(recoveryCodesService),
    new TwoFactorResolver(twoFactor),
    new AuditResolver(auditQuery),
    new AdminResolver(admin),
  ]);
  const { fastify, metricsServer } = await createHttpServer({
    config,
    logger,
    schema,
    validationRules: [
      singleCodeCheckRule,
      // Sandbox's schema query (introspection only) is exempt while introspection is on.
      shapeRule(DOCUMENT_LIMITS.maxDepth, DOCUMENT_LIMITS.maxExpandedFields, config.introspection),
      aliasAndRootFieldRule(DOCUMENT_LIMITS.maxAliases, DOCUMENT_LIMITS.maxRootFields, config.introspection),
    ],
    sandboxToken: config.production ? undefined : overrides.sandboxToken,
    tokens: new TokenVerifier(config.auth, clock),
    statuses,
    metrics,
    readiness: [
      { name: 'database', check: () => database.ping() },
      { name: 'store', check: () => store.ping() },
    ],
  });

  return {
    fastify,
    metricsServer,
    database,
    store,
    logger,
    async close() {
      await fastify.close();
      smsSender.close();
      await store.close();
      await dataSource.destroy();
    },
  };
}
