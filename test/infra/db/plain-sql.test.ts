import { PLAIN_SQL_CASES } from './plain-sql/cases';
import { openMariaDb, openSqlite } from './plain-sql/databases';
import type { TestDatabase } from './plain-sql/harness';

/**
 * Every plain statement of src/ (ADR 0005) gives what its TypeORM equivalent
 * gives, on MariaDB (queued writes batched with the COMMIT, as the service sends
 * them) and on the embedded SQLite: a read maps every column the entity reads
 * map, a write leaves the rows TypeORM's write leaves. Each case fills every
 * column with something other than its default, so a column a statement
 * forgets, or maps wrong, shows.
 *
 * The cases are in plain-sql/, a file per area. To add a plain statement: write
 * it in its table's repository, its names taken from the entity (`Table`), then
 * add a case to the file of its area (or a new file, listed in
 * plain-sql/cases.ts) whose `holds` names the method that writes it
 * (`Class.method`, as plain-sql-coverage.test.ts reports it). That test fails,
 * naming the place, until a case holds every plain statement.
 */

const DATABASES: [string, () => Promise<TestDatabase>][] = [
  ['MariaDB', openMariaDb],
  ['the embedded SQLite', openSqlite],
];

describe.each(DATABASES)('plain SQL on %s', (kind, open) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open();
  }, 60_000);
  afterAll(() => db?.close());

  const cases = PLAIN_SQL_CASES.filter((one) => kind === 'MariaDB' || !one.mysqlOnly);
  it.each(cases.map((one) => [one.name, one] as const))('%s', (_name, one) => one.run(db), 30_000);
});
