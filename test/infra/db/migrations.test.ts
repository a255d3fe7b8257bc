import { createDataSource, detectMysqlFlavor } from '../../../src/infra/db/data-source';
import { migrate } from '../../../src/infra/db/migrate';
import { createLogger } from '../../../src/infra/logger';
import { createTestDatabase } from '../../support/test-app';

describe('migrations', () => {
  it('leave no difference between the entities and the MariaDB schema', async () => {
    const database = await createTestDatabase();
    const dataSource = createDataSource({ kind: 'mysql', url: database.url }, await detectMysqlFlavor(database.url));
    try {
      await dataSource.initialize();
      await migrate(dataSource, createLogger('silent'));
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });

  it('run once when two instances start together', async () => {
    const database = await createTestDatabase();
    const sources = [createDataSource({ kind: 'mysql', url: database.url }), createDataSource({ kind: 'mysql', url: database.url })];
    try {
      await Promise.all(sources.map((source) => source.initialize()));
      await Promise.all(sources.map((source) => migrate(source, createLogger('silent'))));
      const rows = await sources[0].query('SELECT COUNT(*) AS applied FROM migrations');
      expect(Number(rows[0].applied)).toBe(sources[0].migrations.length);
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
      await database.drop();
    }
  });
});
