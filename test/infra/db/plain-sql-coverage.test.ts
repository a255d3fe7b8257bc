import { NOT_TABLE_STATEMENTS, PLAIN_SQL_CASES } from './plain-sql/cases';
import { plainSqlSites } from './plain-sql/sites';

/**
 * Keeps "every plain statement is held to its TypeORM equivalent" true: each
 * place in src/ that writes plain SQL (plain-sql/sites.ts: an object's `sql`, a
 * `.query(` call, `database.write`/`insert`, a factor's StatusPart) is named in
 * the `holds` of a case of plain-sql.test.ts, or is no statement of a table
 * (NOT_TABLE_STATEMENTS, with why). How to add a case: plain-sql.test.ts.
 */
describe('plain SQL held to TypeORM', () => {
  const sites = plainSqlSites();
  const held = new Set(PLAIN_SQL_CASES.flatMap((one) => one.holds));

  it('holds every plain statement of src/ to its TypeORM equivalent', () => {
    const unheld = [...sites.entries()]
      .filter(([name]) => !held.has(name) && !(name in NOT_TABLE_STATEMENTS))
      .map(([name, at]) => `${name} (${at.map((site) => site.at).join(', ')})`);
    if (unheld.length > 0)
      throw new Error(
        `plain SQL that no case of test/infra/db/plain-sql.test.ts holds to its TypeORM equivalent:\n  ${unheld.join('\n  ')}\nadd a case to the area's file in test/infra/db/plain-sql/ with holds: ['<Class.method>']`,
      );
  });

  it('names only places that still write plain SQL', () => {
    const stale = [...held, ...Object.keys(NOT_TABLE_STATEMENTS)].filter((name) => !sites.has(name));
    expect(stale).toEqual([]);
  });

  it('finds the plain statements where they are written (not vacuous)', () => {
    expect(sites.get('UserRepository.lock')?.[0].at).toMatch(/^src\/users\/user\.repository\.ts:\d+$/);
    expect(sites.has('TOTP_STATUS')).toBe(true);
    expect(sites.has('SpentLoginChallenges.purgeExpired')).toBe(true);
    expect(sites.size).toBeGreaterThan(30);
  });
});
