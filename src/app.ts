import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import { AdminResolver } from './admin/admin.resolver';
import { AdminService } from './admin/admin.service';
import { AnswerChecker } from './attempts/answer-checker';
import { AttemptLimits } from './attempts/attempt-limits';
import { StepUp } from './attempts/step-up';
import { AuditLog } from './audit/audit-log';
import { AuditQueryService } from './audit/audit-query.service';
import { AuditRetention } from './audit/audit-retention';
import { AuditResolver } from './audit/audit.resolver';
import { createAuthenticators, verifyStartupMetadata } from './authenticators';
import { TokenVerifier } from './callers/token-verifier';
import type { Config } from './config/config';
import { DirectoryResolver } from './directory/directory.resolver';
import { DirectoryService } from './directory/directory.service';
import { OrganizationPurge } from './directory/organization-purge';
import { EnrollmentGuard } from './factors/enrollment-guard';
import { FactorSetup } from './factors/factor-setup';
import { FACTOR_MODULES } from './factors/modules';
import { RecoveryCodeIssuer } from './factors/recovery-codes/recovery-code-issuer';
import { RecoveryCodeRepository } from './factors/recovery-codes/recovery-code.repository';
import { FactorRegistry } from './factors/registry';
import { TwoFactorLifecycle } from './factors/two-factor-lifecycle';
import { TwoFactorResolver } from './factors/two-factor.resolver';
import { TwoFactorService } from './factors/two-factor.service';
import { aliasAndRootFieldRule, DOCUMENT_LIMITS, shapeRule } from './graphql/document-limits';
import { buildGraphQLSchema } from './graphql/schema';
import { singleAnswerRule } from './graphql/single-answer-rule';
import { Metrics } from './http/metrics';
import { createHttpServer } from './http/server';
import { type Clock, systemClock } from './infra/clock';
import { SecretBox } from './infra/crypto/cipher';
import { StoreKeyHash } from './infra/crypto/store-key-hash';
import { createDataSource, detectMysqlFlavor } from './infra/db/data-source';
import { Database } from './infra/db/database';
import { migrate } from './infra/db/migrate';
import { AuditEventRepository } from './infra/db/repositories/audit-event.repository';
import { MembershipRepository } from './infra/db/repositories/membership.repository';
import { OrganizationRepository } from './infra/db/repositories/organization.repository';
import { PendingSetupRepository } from './infra/db/repositories/pending-setup.repository';
import { UserRepository } from './infra/db/repositories/user.repository';
import { PeriodicJob } from './infra/jobs/periodic-job';
import { createLogger, type Logger } from './infra/logger';
import { LogSmsSender } from './infra/sms-sender/log-sms-sender';
import type { SmsSender } from './infra/sms-sender/sms-sender';
import { SnsSmsSender } from './infra/sms-sender/sns-sms-sender';
import { MemoryStore } from './infra/store/memory-store';
import { RedisStore } from './infra/store/redis-store';
import type { Store } from './infra/store/store';
import { LIMITS } from './limits';
import { AssertionSigner } from './login/assertion-signer';
import { ChallengeStore } from './login/challenge-store';
import { LoginResolver, LoginVerificationResolver } from './login/login.resolver';
import { LoginService } from './login/login.service';
import { SpentLoginChallenges } from './login/spent-login-challenges';
import { MemberResolver } from './organizations/member.resolver';
import { OrganizationMembers } from './organizations/organization-members';
import { OrganizationPolicyService } from './organizations/organization-policy.service';
import { OrganizationResolver } from './organizations/organization.resolver';
import { OrganizationService } from './organizations/organization.service';
import { UserMembershipsResolver } from './organizations/user-memberships.resolver';
import { createOcsfSignals } from './signals/ocsf';
import { TrustedDeviceRepository } from './trusted-devices/trusted-device.repository';
import { TrustedDeviceResolver, TrustedDeviceStatusResolver } from './trusted-devices/trusted-device.resolver';
import { TrustedDeviceService } from './trusted-devices/trusted-device.service';
import { TwoFactorStatusReader } from './users/two-factor-status.reader';
import { UserResolver } from './users/user.resolver';
import { createWebhooks, type WebhookOverrides, type Webhooks } from './webhooks';
import { WebhookEventWriter } from './webhooks/event-writer';
import { WebhookRepository } from './webhooks/webhook.repository';

/** What the process entry (main.ts) and tests pass beside the config: time, where logs go, the Sandbox's token. */
export interface AppOverrides {
  clock?: Clock;
  logger?: Logger;
  /** Prefix for every store key, so test runs do not see each other. */
  storeKeyPrefix?: string;
  /** The development token main.ts minted: put in the Sandbox page's headers (never in production). */
  sandboxToken?: string;
  /** Webhook delivery: a stub DNS, a private CA (tests). */
  webhooks?: WebhookOverrides;
  /** Background work (purges, webhook delivery) runs only when asked (runBackgroundJobs): tests that watch every statement. */
  manualBackgroundWork?: boolean;
}

export interface App {
  /** Runs every background job now (the purges), instead of waiting for their turn. */
  runBackgroundJobs(): Promise<void>;
  fastify: FastifyInstance;
  /** /metrics alone, when METRICS_PORT is set; it listens when `fastify` does. */
  metricsServer?: FastifyInstance;
  database: Database;
  store: Store;
  logger: Logger;
  /** The outbox writer, the endpoint API, the delivery worker and the purge. */
  webhooks: Webhooks;
  close(): Promise<void>;
}

/**
 * The one composition root: adapters, then services, then resolvers, schema and
 * server. Which database, store and SMS sender is decided here and nowhere else.
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  // A FIDO_MDS_BLOB_FILE that does not verify refuses the start (ConfigError) before anything opens.
  const metadataStart = await verifyStartupMetadata(config, clock);

  // Adapters
  const flavor = config.database.kind === 'mysql' ? await detectMysqlFlavor(config.database.url) : undefined;
  const dataSource = createDataSource(config.database, flavor);
  await dataSource.initialize();
  if (config.migrationsRun || config.database.kind === 'sqlite') await migrate(dataSource, logger);
  // On MySQL, transactions run on a pool of their own that sends several statements per round trip (ADR 0013).
  const transactionSource =
    config.database.kind === 'mysql' ? createDataSource(config.database, flavor, { forTransactions: true }) : undefined;
  await transactionSource?.initialize();
  const database = new Database(dataSource, transactionSource);
  const store: Store =
    config.store.kind === 'memory'
      ? new MemoryStore()
      : await RedisStore.connect(config.store, overrides.storeKeyPrefix);

  // Repositories
  const users = new UserRepository(database);
  const organizations = new OrganizationRepository(database);
  const memberships = new MembershipRepository(database);
  const pendingSetups = new PendingSetupRepository();
  const recoveryCodes = new RecoveryCodeRepository(database);
  const auditEvents = new AuditEventRepository(database);
  const webhookRepository = new WebhookRepository(database, () => clock.now().getTime());

  const secrets = new SecretBox(config.encryption.key, config.encryption.retiredKeys);
  // Store keys that derive from numbers, users or challenge ids are keyed hashes (same key, same names on every instance).
  const storeKeys = new StoreKeyHash(config.encryption.key);
  const metrics = new Metrics();
  const smsSender: SmsSender =
    config.sms.provider === 'sns' ? new SnsSmsSender(config.sms, logger) : new LogSmsSender(logger);

  // Services shared by every factor; the registry is filled below, before any request.
  const registry = new FactorRegistry();
  // Every audited security change also enters the webhook outbox, in its transaction.
  const webhookEvents = new WebhookEventWriter(webhookRepository, clock);
  const audit = new AuditLog(auditEvents, webhookEvents);
  const statuses = new TwoFactorStatusReader(database, users);
  const organizationService = new OrganizationService(database, organizations, memberships, clock);
  const attemptLimits = new AttemptLimits(store, config.limits, storeKeys);
  const checker = new AnswerChecker({ database, users, limits: attemptLimits, audit, clock, logger });
  const organizationMembers = new OrganizationMembers(memberships, organizations, users, webhookEvents);
  const stepUp = new StepUp(checker, registry, database, users, organizationMembers);
  const issuer = new RecoveryCodeIssuer(recoveryCodes, users, secrets);
  const trustedDevices = new TrustedDeviceService({
    database,
    devices: new TrustedDeviceRepository(database),
    secrets,
    audit,
    clock,
    logger,
    days: config.trustedDevices.days,
  });
  const lifecycle = new TwoFactorLifecycle({
    users,
    registry,
    pendingSetups,
    recoveryCodes,
    issuer,
    organizations: organizationMembers,
    trustedDevices,
    audit,
  });
  const setup = new FactorSetup({
    database,
    pendingSetups,
    checker,
    stepUp,
    lifecycle,
    enrollment: new EnrollmentGuard(clock, config.auth.reauthMaxAgeSeconds),
    statuses,
    secrets,
    clock,
  });
  const twoFactor = new TwoFactorService({ database, registry, stepUp, lifecycle, statuses, audit });
  const spentChallenges = new SpentLoginChallenges(database, clock);
  const challenges = new ChallengeStore(store, secrets, storeKeys, spentChallenges, clock);

  // Second factors (factors/modules.ts)
  const factorModules = FACTOR_MODULES.map((module) =>
    module.create({
      config,
      clock,
      database,
      store,
      storeKeys,
      secrets,
      smsSender,
      metrics,
      users,
      audit,
      recoveryCodes,
      issuer,
      setup,
      stepUp,
      twoFactor,
      challenges,
      lifecycle,
      logger,
    }),
  );
  registry.register(factorModules.map((module) => module.factor));

  const login = new LoginService({
    challenges,
    spentChallenges,
    checker,
    limits: attemptLimits,
    registry,
    statuses,
    signer: new AssertionSigner(config.assertion),
    trustedDevices,
    metrics,
    audit,
    clock,
  });
  // Background work on every instance: deleted organizations' memberships, old audit events.
  const organizationPurge = new OrganizationPurge(database);
  const auditRetention = new AuditRetention(database, config.auditRetentionDays, clock);
  const every = LIMITS.backgroundJobIntervalSeconds * 1000;
  const purgeJob = new PeriodicJob('organization purge', every, () => organizationPurge.run(), logger);
  const authenticators = await createAuthenticators({ start: metadataStart, database, clock, logger });
  const jobs = [
    purgeJob,
    authenticators.refreshJob,
    new PeriodicJob('audit retention', every, () => auditRetention.run(), logger),
    new PeriodicJob('spent login challenges', every, () => spentChallenges.purgeExpired(LIMITS.purgeBatchSize), logger),
  ];
  const directory = new DirectoryService({
    database,
    users,
    organizations,
    memberships,
    lifecycle,
    auditEvents,
    audit,
    clock,
    purge: organizationPurge,
    purgeSoon: () => void purgeJob.runOnce(),
  });
  const organizationPolicy = new OrganizationPolicyService(database, organizations, memberships, audit, clock);
  const auditQuery = new AuditQueryService(database, auditEvents, memberships, organizations);
  const admin = new AdminService({ database, users, lifecycle, statuses, audit, clock });
  const webhooks = createWebhooks({
    config,
    database,
    repository: webhookRepository,
    events: webhookEvents,
    secrets,
    audit,
    metrics,
    clock,
    logger,
    overrides: overrides.webhooks,
  });

  // GraphQL and HTTP
  const ocsf = createOcsfSignals(database);
  const schema = await buildGraphQLSchema([
    new UserResolver(),
    new UserMembershipsResolver(organizationService),
    new OrganizationResolver(organizationService, organizationPolicy),
    new MemberResolver(),
    new DirectoryResolver(directory),
    new LoginResolver(login),
    new LoginVerificationResolver(statuses),
    new TwoFactorResolver(twoFactor),
    new AuditResolver(auditQuery),
    new AdminResolver(admin),
    new TrustedDeviceResolver(trustedDevices),
    new TrustedDeviceStatusResolver(trustedDevices),
    webhooks.resolver,
    authenticators.resolver,
    ...ocsf.resolvers,
    ...factorModules.flatMap((module) => module.resolvers),
  ]);
  const { fastify, metricsServer } = await createHttpServer({
    config,
    logger,
    schema,
    validationRules: [
      singleAnswerRule,
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
    routes: [ocsf.routes],
  });

  if (!overrides.manualBackgroundWork) {
    for (const job of jobs) job.start();
    // Every instance delivers the outbox (the embedded default too, from its SQLite file).
    webhooks.start();
  }

  return {
    fastify,
    metricsServer,
    database,
    store,
    logger,
    webhooks,
    async runBackgroundJobs() {
      await Promise.all(jobs.map((job) => job.runOnce()));
    },
    async close() {
      // Requests finish (they may still write events) while attempts in flight get a moment.
      await Promise.all([fastify.close(), webhooks.stop()]);
      await Promise.all(jobs.map((job) => job.stop()));
      smsSender.close();
      await store.close();
      await transactionSource?.destroy();
      await dataSource.destroy();
    },
  };
}
