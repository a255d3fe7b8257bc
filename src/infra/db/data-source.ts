import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import type { Config } from '../../config/config';

export type DatabaseSettings = Config['database'];

/** The tables the modules declare, and the migrations that make them (src/modules.ts). */
export interface DatabaseSchema {
  entities: readonly Function[];
  migrations: readonly Function[];
}
export type MysqlFlavor = 'mysql' | 'mariadb';

/**
 * MySQL 8 and MariaDB speak the same protocol, but TypeORM compares schemas
 * differently for each (a wrong guess reports false drift), so ask the server.
 */
export async function detectMysqlFlavor(url: string): Promise<MysqlFlavor> {
  const connection = await createConnection({ uri: url, connectTimeout: 5_000 });
  try {
    const [rows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    return String(rows[0].version).includes('MariaDB') ? 'mariadb' : 'mysql';
  } finally {
    await connection.end();
  }
}

/**
 * The one way a TypeORM DataSource is made: by the app, the tests and the CLI
 * (ormconfig.ts). `forTransactions`: the pool that runs transactions on MySQL,
 * whose connections take several statements in one query (ADR 0013); it runs
 * only SQL the code builds, every value a `?` parameter, never caller-shaped text.
 */
export function createDataSource(
  settings: DatabaseSettings,
  schema: DatabaseSchema,
  { flavor = 'mysql', forTransactions = false }: { flavor?: MysqlFlavor; forTransactions?: boolean } = {},
): DataSource {
  const entities = [...schema.entities];
  const migrations = [...schema.migrations];
  if (settings.kind === 'mysql') {
    return new DataSource({
      type: flavor,
      url: settings.url,
      entities,
      migrations,
      migrationsTableName: 'migrations',
      synchronize: false,
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
      supportBigNumbers: true,
      bigNumberStrings: true,
      extra: {
        connectionLimit: 20,
        connectTimeout: 5_000,
        // Fail fast rather than queue forever when the database is gone.
        queueLimit: 200,
        enableKeepAlive: true,
        // mysql2 otherwise captures a stack trace for every query: measurable on the hot reads.
        trace: false,
        multipleStatements: forTransactions,
      },
    });
  }
  mkdirSync(dirname(settings.file), { recursive: true });
  return new DataSource({
    type: 'sqljs',
    location: settings.file,
    autoSave: true,
    entities,
    synchronize: false,
  });
}
