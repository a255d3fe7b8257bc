import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { MYSQL_ROOT_URL } from '../support/services';

/**
 * The two tiers of jest.config.js: `npm run test:fast` needs neither MariaDB nor
 * Redis, `npm test` runs every test exactly once. This file is in the full tier:
 * it runs the fast tier in a child process.
 */
const ROOT = join(__dirname, '..', '..');

jest.setTimeout(600_000);

/** A port nothing listens on: one the kernel just handed out, closed again. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The environment of a child jest: no worker id of ours, no service settings. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['JEST_WORKER_ID', 'DATABASE_URL', 'REDIS_URL']) delete env[name];
  return env;
}

/** The test files jest runs in one tier, relative to the repository. */
function listTests(tier: 'fast' | 'full'): string[] {
  const result = spawnSync(
    process.execPath,
    [require.resolve('jest/bin/jest'), '--listTests', '--json', '--selectProjects', tier],
    { cwd: ROOT, encoding: 'utf8', env: childEnv({}) },
  );
  expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({
    status: 0,
    stderr: '',
  });
  return (JSON.parse(result.stdout) as string[]).map((file) => relative(ROOT, file)).sort();
}

function testFilesOnDisk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFilesOnDisk(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

describe('the test tiers', () => {
  it('puts every test file in exactly one tier, this one in the full tier', () => {
    const fast = listTests('fast');
    const full = listTests('full');
    expect(fast.filter((file) => full.includes(file))).toEqual([]);
    expect([...fast, ...full].sort()).toEqual(testFilesOnDisk(join(ROOT, 'test')).sort());
    expect(fast).toEqual(expect.arrayContaining(['test/unit/answer-checker.unit.test.ts']));
    expect(full).toContain('test/ci/test-tiers.test.ts');
  });

  it('lists in the fast tier only files and folders that exist (a moved test would drop out unnoticed)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const config = require(join(ROOT, 'jest.config.js')) as {
      projects: { displayName: string; testMatch: string[] }[];
    };
    const fast = config.projects.find((project) => project.displayName === 'fast')!;
    // A file, or a folder with its glob: each must be there.
    const paths = fast.testMatch.map((pattern) =>
      pattern.replace('<rootDir>', ROOT).replace(/\*\*\/\*\.test\.ts$/, ''),
    );
    expect(paths.length).toBeGreaterThan(1);
    expect(paths.filter((path) => !existsSync(path))).toEqual([]);
  });

  it('the full tier does not start without MariaDB, nor without Redis (its global setup checks both)', async () => {
    const [mysqlPort, redisPort] = [await closedPort(), await closedPort()];
    // This file in the full tier with no test selected: only the global setup runs.
    const fullTierWith = (env: Record<string, string>) =>
      spawnSync(
        process.execPath,
        [require.resolve('jest/bin/jest'), '--selectProjects', 'full', '-t', '^no test has this name$', __filename],
        { cwd: ROOT, encoding: 'utf8', env: childEnv(env) },
      );
    const noMariaDb = fullTierWith({
      TEST_MYSQL_URL: `mysql://root@127.0.0.1:${mysqlPort}`,
      TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
    });
    expect(noMariaDb.status).toBe(1);
    expect(noMariaDb.stderr).toContain(`tests need MariaDB at mysql://root@127.0.0.1:${mysqlPort}`);
    const noRedis = fullTierWith({
      TEST_MYSQL_URL: MYSQL_ROOT_URL,
      TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
    });
    expect(noRedis.status).toBe(1);
    expect(noRedis.stderr).toContain(`tests need Redis at redis://127.0.0.1:${redisPort}/0`);
  });

  it('`npm run test:fast` passes with MariaDB and Redis on closed ports', async () => {
    const [mysqlPort, redisPort] = [await closedPort(), await closedPort()];
    const dir = mkdtempSync(join(tmpdir(), 'tf-fast-tier-'));
    const results = join(dir, 'results.json');
    try {
      // One worker: under `npm test` this runs beside the full tier's own two.
      const args = ['run', '-s', 'test:fast', '--', '--maxWorkers=1', '--json', `--outputFile=${results}`];
      const child = spawn('npm', args, {
        cwd: ROOT,
        env: childEnv({
          TEST_MYSQL_URL: `mysql://root@127.0.0.1:${mysqlPort}`,
          TEST_REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const status = await new Promise<number | null>((resolve) => child.once('close', resolve));

      expect({ status, output: status === 0 ? '' : output }).toEqual({ status: 0, output: '' });
      const summary = JSON.parse(readFileSync(results, 'utf8')) as {
        success: boolean;
        numTotalTestSuites: number;
        numFailedTests: number;
        numRuntimeErrorTestSuites: number;
        numPassedTests: number;
        testResults: { name: string }[];
      };
      expect(summary).toMatchObject({ success: true, numFailedTests: 0, numRuntimeErrorTestSuites: 0 });
      expect(summary.numPassedTests).toBeGreaterThan(0);
      expect(summary.testResults.map((file) => relative(ROOT, file.name)).sort()).toEqual(listTests('fast'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
