import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The bench is ES modules, which jest here cannot load: its verdict tests are
// node:test files (bench/lib/*.test.mjs), run by Node itself from this test.
const ROOT = join(__dirname, '../..');

describe('the bench', () => {
  test('judges and counts its targets as bench/lib/targets.test.mjs says', () => {
    const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', 'bench/lib/targets.test.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`node --test failed:\n${result.stdout}\n${result.stderr}`);
    expect(result.stdout).toMatch(/ℹ fail 0/);
  });

  test("counts what the project's OpenTelemetry SDK exports, as bench/lib/otlp-receiver.test.mjs says", () => {
    const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', 'bench/lib/otlp-receiver.test.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`node --test failed:\n${result.stdout}\n${result.stderr}`);
    expect(result.stdout).toMatch(/ℹ fail 0/);
  });
});
