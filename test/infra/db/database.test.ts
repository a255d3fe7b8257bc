import { createDataSource } from '../../../src/infra/db/data-source';
import { Database } from '../../../src/infra/db/database';
import { DATABASE_SCHEMA } from '../../../src/modules';
import { watchPool } from '../../support/round-trips';
import { withMariaDbDataSource } from '../../support/test-app';

describe('Database on MariaDB', () => {
  it('runs every transaction at READ COMMITTED, telling each pooled connection once, in its first round trip', async () => {
    await withMariaDbDataSource(
      async (dataSource) => {
        const database = new Database(dataSource);
        const sent: string[] = [];
        watchPool(dataSource, sent);
        const levels: string[] = [];
        for (let i = 0; i < 3; i += 1) {
          await database.transaction(async (manager) => {
            const [row]: { level: string }[] = await manager.query('SELECT @@SESSION.tx_isolation AS level');
            levels.push(row.level);
          });
        }
        expect(levels).toEqual(['READ-COMMITTED', 'READ-COMMITTED', 'READ-COMMITTED']);
        expect(sent.filter((sql) => /ISOLATION LEVEL/i.test(sql)).length).toBeLessThanOrEqual(1);
        expect(sent.filter((sql) => sql.includes('START TRANSACTION'))).toHaveLength(3);
      },
      { migrated: false },
    );
  });

  it('plans a transaction, then sends it: reads with what was queued before them, writes with the COMMIT', async () => {
    await withMariaDbDataSource(
      async (dataSource) => {
        const url = (dataSource.options as { url: string }).url;
        const batches = createDataSource({ kind: 'mysql', url }, DATABASE_SCHEMA, {
          flavor: 'mariadb',
          forTransactions: true,
        });
        await batches.initialize();
        try {
          const database = new Database(dataSource, batches);
          await dataSource.query('CREATE TABLE t (n INT PRIMARY KEY)');
          const sent: string[] = [];
          watchPool(batches, sent);
          const rows = await database.transaction(async (manager) => {
            const [locked] = await database.read(manager, [
              { sql: 'SELECT n FROM t WHERE n = ? FOR UPDATE', parameters: [1] },
            ]);
            await database.queue(manager, { sql: 'INSERT INTO t (n) VALUES (?)', parameters: [1] });
            await database.queue(manager, { sql: 'INSERT INTO t (n) VALUES (?)', parameters: [2] });
            return locked;
          });
          expect(rows).toEqual([]);
          expect(sent).toEqual([
            expect.stringMatching(
              /^SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;\s*START TRANSACTION;\s*SELECT n FROM t WHERE n = \? FOR UPDATE$/,
            ),
            expect.stringMatching(/^INSERT INTO t \(n\) VALUES \(\?\);\s*INSERT INTO t \(n\) VALUES \(\?\);\s*COMMIT$/),
          ]);
          expect(await dataSource.query('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);

          // A batch stops at its first failing statement; nothing of the transaction stays.
          sent.length = 0;
          await expect(
            database.transaction(async (manager) => {
              await database.queue(manager, { sql: 'INSERT INTO t (n) VALUES (?)', parameters: [3] });
              await database.queue(manager, { sql: 'INSERT INTO t (n) VALUES (?)', parameters: [1] });
            }),
          ).rejects.toThrow(/Duplicate entry/);
          expect(sent).toEqual([expect.stringMatching(/COMMIT$/), 'ROLLBACK']);
          expect(await dataSource.query('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);

          // A transaction that read nothing and wrote nothing sends nothing.
          sent.length = 0;
          await database.transaction(async () => undefined);
          expect(sent).toEqual([]);
        } finally {
          await batches.destroy();
        }
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
