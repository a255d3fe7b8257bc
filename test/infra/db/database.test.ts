import { Database } from '../../../src/infra/db/database';
import { withMariaDbDataSource } from '../../support/test-app';

describe('Database on MariaDB', () => {
  it('runs every transaction at READ COMMITTED, telling each pooled connection once rather than per transaction', async () => {
    const statements: string[] = [];
    await withMariaDbDataSource(
      async (dataSource) => {
        const database = new Database(dataSource);
        dataSource.logger = {
          logQuery: (query: string) => statements.push(query),
          logQueryError: () => undefined,
          logQuerySlow: () => undefined,
          logSchemaBuild: () => undefined,
          logMigration: () => undefined,
          log: () => undefined,
        };
        const levels: string[] = [];
        for (let i = 0; i < 3; i += 1) {
          await database.transaction(async (manager) => {
            const [row]: { level: string }[] = await manager.query('SELECT @@SESSION.tx_isolation AS level');
            levels.push(row.level);
          });
        }
        expect(levels).toEqual(['READ-COMMITTED', 'READ-COMMITTED', 'READ-COMMITTED']);
        expect(statements.filter((sql) => /ISOLATION LEVEL/i.test(sql)).length).toBeLessThanOrEqual(1);
        expect(statements.filter((sql) => sql === 'START TRANSACTION')).toHaveLength(3);
      },
      { migrated: false },
    );
  });

  it('rolls a failed transaction back whole and gives its connection back', async () => {
    await withMariaDbDataSource(
      async (dataSource) => {
        const database = new Database(dataSource);
        await dataSource.query('CREATE TABLE t (n INT)');
        for (let i = 0; i < 30; i += 1) {
          await expect(
            database.transaction(async (manager) => {
              await database.write(manager, 'INSERT INTO t (n) VALUES (?)', [i]);
              throw new Error('changed my mind');
            }),
          ).rejects.toThrow('changed my mind');
        }
        // 30 failures on a pool of 20: every connection came back.
        expect(await dataSource.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: '0' }]);
      },
      { migrated: false },
    );
  });
});
