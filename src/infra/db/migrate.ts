import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';

const LOCK_NAME = 'twofactor_migrations';

/**
 * Brings the database schema up to date. On MySQL, under an advisory lock, so
 * instances that start together run the migrations once. The embedded SQLite
 * file synchronizes its schema from the entities.
 */
export async function migrate(dataSource: DataSource, logger: Logger): Promise<void> {
  if (dataSource.options.type === 'sqljs') {
    await synchronizeEmbedded(dataSource);
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    const [{ acquired }] = await runner.query('SELECT GET_LOCK(?, 120) AS acquired', [LOCK_NAME]);
    if (Number(acquired) !== 1) throw new Error('timed out waiting for the migration lock');
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) logger.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await runner.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]).catch(() => undefined);
    await runner.release();
  }
}

/** SQLite has no charsets or MySQL collations, and compares bytes already. */
async function synchronizeEmbedded(dataSource: DataSource): Promise<void> {
  for (const entity of dataSource.entityMetadatas) {
    for (const column of entity.columns) {
      column.charset = undefined;
      column.collation = undefined;
      if (column.isGenerated && column.generationStrategy === 'increment') column.type = 'integer';
    }
  }
  await dataSource.synchronize();
}
