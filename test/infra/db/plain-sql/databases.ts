import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource, detectMysqlFlavor } from '../../../../src/infra/db/data-source';
import { Database } from '../../../../src/infra/db/database';
import { migrate } from '../../../../src/infra/db/migrate';
import { createLogger } from '../../../../src/infra/logger';
import { DATABASE_SCHEMA } from '../../../../src/modules';
import { createTestDatabase } from '../../../support/test-app';
import type { TestDatabase } from './harness';

/** A migrated MariaDB database of its own, with the pool that runs transactions (ADR 0013), as createApp makes it. */
export async function openMariaDb(): Promise<TestDatabase> {
  const created = await createTestDatabase();
  const flavor = await detectMysqlFlavor(created.url);
  const settings = { kind: 'mysql' as const, url: created.url };
  const dataSource = createDataSource(settings, DATABASE_SCHEMA, { flavor });
  const transactions = createDataSource(settings, DATABASE_SCHEMA, { flavor, forTransactions: true });
  await dataSource.initialize();
  await migrate(dataSource, createLogger('silent'));
  await transactions.initialize();
  return {
    kind: 'MariaDB',
    database: new Database(dataSource, transactions),
    manager: dataSource.manager,
    async close() {
      await transactions.destroy();
      await dataSource.destroy();
      await created.drop();
    },
  };
}

/** The embedded default: a SQLite file of its own. */
export async function openSqlite(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'tf-plain-sql-'));
  const dataSource = createDataSource({ kind: 'sqlite', file: join(dir, 'plain.sqlite') }, DATABASE_SCHEMA);
  await dataSource.initialize();
  await migrate(dataSource, createLogger('silent'));
  return {
    kind: 'SQLite',
    database: new Database(dataSource),
    manager: dataSource.manager,
    async close() {
      await dataSource.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
