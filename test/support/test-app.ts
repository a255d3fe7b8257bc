import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createConnection } from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { type App, createApp } from '../../src/app';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { loadConfig, type Config } from '../../src/config/config';
import { ManualClock } from '../../src/infra/clock';
import { createDataSource, detectMysqlFlavor } from '../../src/infra/db/data-source';
import { migrate } from '../../src/infra/db/migrate';
import { createLogger } from '../../src/infra/logger';
import { DATABASE_SCHEMA } from '../../src/modules';
import type { WebhookOverrides } from '../../src/webhooks';
import { MYSQL_ROOT_URL, REDIS_URL } from './services';

export const AUTH_SECRET = 'test-auth-secret-0123456789abcdef0123456789';
export const ASSERTION_SECRET = 'test-assertion-secret-0123456789abcdef01234';
export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Defaults to a fresh MariaDB database for this app. */
  databaseUrl?: string;
  clock?: ManualClock;
  /** Runs without Redis (the in-process store). */
  memoryStore?: boolean;
  /** Store key prefix; defaults to a random one per app. Instances given the same prefix share the store's state. */
  storeKeyPrefix?: string;
  configure?: (config: Config) => void;
  /** Webhook delivery's stub DNS and trust anchors. */
  webhooks?: WebhookOverrides;
  /** Background work (purges, webhook delivery) only when the test asks for it. */
  manualBackgroundWork?: boolean;
}

export interface TestApp {
  app: App;
  url: string;
  clock: ManualClock;
  config: Config;
  databaseUrl: string;
  /** Every log line the app wrote. */
  logs: string[];
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<GqlResult<T>>;
  token(subject: string, scopes?: string[], options?: { authTime?: Date; expiresIn?: string }): Promise<string>;
  sql<T = any>(statement: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  data: T;
  errors?: { message: string; extensions?: Record<string, any>; path?: string[] }[];
  body: any;
}

/** A fresh database on the shared MariaDB; dropped by `close()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tf_t_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection({ uri: `${MYSQL_ROOT_URL}/test` });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  return {
    url: `${MYSQL_ROOT_URL}/${name}`,
    async drop() {
      const connection = await createConnection({ uri: `${MYSQL_ROOT_URL}/test` });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

/**
 * A TypeORM DataSource on a MariaDB database of its own, migrated unless told
 * otherwise, for `use`; the database is dropped afterwards.
 */
export async function withMariaDbDataSource<T>(
  use: (dataSource: DataSource) => Promise<T>,
  { migrated = true }: { migrated?: boolean } = {},
): Promise<T> {
  const database = await createTestDatabase();
  const dataSource = createDataSource({ kind: 'mysql', url: database.url }, DATABASE_SCHEMA, {
    flavor: await detectMysqlFlavor(database.url),
  });
  try {
    await dataSource.initialize();
    if (migrated) await migrate(dataSource, createLogger('silent'));
    return await use(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.drop();
  }
}

/** Boots the real service (MariaDB + Redis by default) on a free port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database!.url;
  const clock = options.clock ?? new ManualClock(new Date());
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ...(options.memoryStore ? {} : { REDIS_URL }),
    AUTH_JWT_SECRET: AUTH_SECRET,
    ASSERTION_JWT_SECRET: ASSERTION_SECRET,
    ENCRYPTION_KEY,
    PORT: '0',
    LOG_LEVEL: 'info',
    // Every test request comes from 127.0.0.1; tests of the per-IP limit set their own.
    IP_ATTEMPTS_PER_MINUTE: '1000000',
    DATA_DIR: `/tmp/tf-test-data-${process.pid}`,
    ...options.env,
  });
  options.configure?.(config);
  const logs: string[] = [];
  // The service's own logger (redaction, request ids), writing into `logs`.
  const logger = createLogger(config.logLevel, {
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  const app = await createApp(config, {
    clock,
    logger,
    storeKeyPrefix: options.storeKeyPrefix ?? `tf:t:${randomBytes(4).toString('hex')}:`,
    webhooks: options.webhooks,
    manualBackgroundWork: options.manualBackgroundWork,
  });
  await app.fastify.listen({ port: 0, host: '127.0.0.1' });
  const address = app.fastify.server.address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  const sqlConnection = await createConnection({ uri: databaseUrl, timezone: 'Z' });

  return {
    app,
    url,
    clock,
    config,
    databaseUrl,
    logs,
    async gql(query, variables, token, headers = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = await response.json();
      return { status: response.status, data: body.data, errors: body.errors, body };
    },
    // Signed as the app's callers' tokens are: for its issuer and audience when it checks them.
    token: (subject, scopes = [], tokenOptions = {}) =>
      signDevelopmentToken(AUTH_SECRET, subject, scopes, {
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        ...tokenOptions,
      }),
    async sql(statement, params = []) {
      const [rows] = await sqlConnection.query(statement, params);
      return rows as any[];
    },
    async close() {
      await sqlConnection.end();
      await app.close();
      await database?.drop();
    },
  };
}

/** A unique id per test, so tests sharing an app never meet. */
export const uniqueId = (prefix: string) => `${prefix}-${randomBytes(5).toString('hex')}`;

export function errorCode(result: GqlResult<unknown>): string | undefined {
  return result.errors?.[0]?.extensions?.code;
}
