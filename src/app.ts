import 'reflect-metadata';
import type { FastifyInstance } from 'fastify';
import type { SecondFactor } from './attempts/second-factor';
import { FactorActions } from './audit/factor-actions';
import { TokenVerifier } from './callers/token-verifier';
import type { Config } from './config/config';
import { aliasAndRootFieldRule, DOCUMENT_LIMITS, shapeRule } from './graphql/document-limits';
import { singleAnswerRule } from './graphql/single-answer-rule';
import { Metrics } from './http/metrics';
import { createHttpServer } from './http/server';
import { type Clock, systemClock } from './infra/clock';
import { SecretBox } from './infra/crypto/cipher';
import { StoreKeyHash } from './infra/crypto/store-key-hash';
import { createDataSource, detectMysqlFlavor } from './infra/db/data-source';
import { Database } from './infra/db/database';
import { migrate } from './infra/db/migrate';
import { createLogger, type Logger } from './infra/logger';
import { LogSmsSender } from './infra/sms-sender/log-sms-sender';
import type { SmsSender } from './infra/sms-sender/sms-sender';
import { SnsSmsSender } from './infra/sms-sender/sns-sms-sender';
import { MemoryStore } from './infra/store/memory-store';
import { RedisStore } from './infra/store/redis-store';
import type { Store } from './infra/store/store';
import { type Background, type Built, createRegistry, type Module } from './module';
import {
  type Adapters,
  buildGraphQLSchema,
  CIPHERTEXTS,
  DATABASE_SCHEMA,
  FACTOR_SIGNALS,
  MODULES,
  type Services,
} from './modules';
import type { WebhookOverrides, Webhooks } from './webhooks';

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
  /** Runs the background job of that name now, alone (an error when there is none: a module that is off). */
  runBackgroundJob(name: string): Promise<void>;
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
 * The one composition root: adapters, a registry of every module's services,
 * each module built (src/modules.ts), then the schema and the server. Which
 * database, store and SMS sender is decided here and nowhere else.
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;

  // Adapters
  const flavor = config.database.kind === 'mysql' ? await detectMysqlFlavor(config.database.url) : undefined;
  const dataSource = createDataSource(config.database, DATABASE_SCHEMA, { flavor });
  await dataSource.initialize();
  if (config.migrationsRun || config.database.kind === 'sqlite') await migrate(dataSource, logger);
  // On MySQL, transactions run on a pool of their own that sends several statements per round trip (ADR 0013).
  const transactionSource =
    config.database.kind === 'mysql'
      ? createDataSource(config.database, DATABASE_SCHEMA, { flavor, forTransactions: true })
      : undefined;
  await transactionSource?.initialize();
  const database = new Database(dataSource, transactionSource);
  const store: Store =
    config.store.kind === 'memory'
      ? new MemoryStore()
      : await RedisStore.connect(config.store, overrides.storeKeyPrefix);
  const smsSender: SmsSender =
    config.sms.provider === 'sns' ? new SnsSmsSender(config.sms, logger) : new LogSmsSender(logger);
  const adapters: Adapters = {
    config,
    logger,
    clock,
    database,
    store,
    secrets: new SecretBox(config.encryption.keys),
    // Store keys that derive from numbers, users or challenge ids are keyed hashes (same key, same names on every instance).
    storeKeys: new StoreKeyHash(config.encryption.keys[0].key),
    metrics: new Metrics(),
    smsSender,
    tokens: new TokenVerifier(config.auth, clock),
    factorActions: new FactorActions(FACTOR_SIGNALS),
    ciphertexts: CIPHERTEXTS,
    webhookOverrides: overrides.webhooks ?? {},
  };

  // The modules: each gives its services to the registry and builds what it serves.
  const registry = createRegistry<Services>(adapters, MODULES as readonly Module<never, unknown>[]);
  const built: Built[] = [];
  try {
    for (const module of MODULES) built.push((await (module as Module<Services>).create?.(registry)) ?? {});
  } catch (error) {
    // A module refused to start (e.g. a key some stored value needs is missing): let go of what was opened.
    smsSender.close();
    await store.close().catch(() => undefined);
    await transactionSource?.destroy().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  registry.factors.register(built.flatMap((one) => ('factor' in one ? [one.factor as SecondFactor] : [])));
  const background: Background[] = built.flatMap((one) => one.background ?? []);

  // GraphQL and HTTP
  const schema = await buildGraphQLSchema(built.flatMap((one) => one.resolvers ?? []));
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
    tokens: adapters.tokens,
    metrics: adapters.metrics,
    routes: built.flatMap((one) => one.routes ?? []),
    readiness: [
      { name: 'database', check: () => database.ping() },
      { name: 'store', check: () => store.ping() },
    ],
  });

  if (!overrides.manualBackgroundWork) for (const work of background) work.start();

  return {
    fastify,
    metricsServer,
    database,
    store,
    logger,
    webhooks: registry.webhooks,
    async runBackgroundJobs() {
      await Promise.all(background.map((work) => work.runOnce?.()));
    },
    async runBackgroundJob(name) {
      const work = background.find((one) => one.name === name);
      if (!work?.runOnce) throw new Error(`no background job ${name} to run`);
      await work.runOnce();
    },
    async close() {
      // Requests finish (they may still write events) while attempts in flight get a moment.
      await fastify.close();
      await Promise.all(background.map((work) => work.stop()));
      smsSender.close();
      await store.close();
      await transactionSource?.destroy();
      await dataSource.destroy();
    },
  };
}
