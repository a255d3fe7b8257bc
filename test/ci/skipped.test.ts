import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** What .ci/run prints before its last line about the tests jest skipped, from jest's --json results. */
function skippedLine(results: unknown): { status: number | null; stdout: string; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'tf-ci-')), 'results.json');
  writeFileSync(file, typeof results === 'string' ? results : JSON.stringify(results));
  return spawnSync(process.execPath, [join(ROOT, '.ci', 'skipped.mjs'), file], { cwd: ROOT, encoding: 'utf8' });
}

const result = (name: string, statuses: Record<string, string>) => ({
  name: join(ROOT, name),
  assertionResults: Object.entries(statuses).map(([fullName, status]) => ({ fullName, status })),
});

describe('.ci/run: the tests jest skipped', () => {
  it('names each skipped test, with jest numPendingTests, on one line', () => {
    const { status, stdout, stderr } = skippedLine({
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 1,
      numTodoTests: 1,
      testResults: [
        result('test/graphql/schema-contract.test.ts', {
          'the schema committed in schema.graphql is the one the code builds': 'passed',
          'the schema is a non-breaking superset of the contract and its built parts': 'pending',
        }),
        result('test/other.test.ts', { 'one day': 'todo', works: 'passed' }),
      ],
    });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(stdout).toBe(
      '2 skipped (numPendingTests 1, numTodoTests 1): test/graphql/schema-contract.test.ts: the schema is a non-breaking superset of the contract and its built parts; test/other.test.ts: one day\n',
    );
  });

  it('says none were skipped, or that there are no results to tell', () => {
    expect(
      skippedLine({ numPendingTests: 0, numTodoTests: 0, testResults: [result('test/a.test.ts', { a: 'passed' })] })
        .stdout,
    ).toBe('0 skipped (numPendingTests 0, numTodoTests 0)\n');
    expect(skippedLine('not json').stdout).toBe('skipped: unknown (no jest results)\n');
  });

  it('is printed by .ci/run right before its last line, which stays `N passed, N failed`', () => {
    const run = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    expect(run).toMatch(/node \.ci\/skipped\.mjs "\$results"[\s\S]*\necho "\$summary"\nexit \$status\n$/);
  });
});
