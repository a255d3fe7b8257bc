import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * A test that computed its TOTP codes with the service's own algorithm would pass
 * whatever that algorithm got wrong. Tests take codes from test/support/totp.ts
 * (otplib); only the algorithm's own test imports it, to check it against otplib
 * and RFC 6238's vectors.
 */
const ROOT = join(__dirname, '..', '..');
const ALGORITHM_TEST = 'test/factors/totp/totp-algorithm.test.ts';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.(ts|tsx|js|mjs|cjs)$/.test(entry.name) ? [relative(ROOT, path)] : [];
  });
}

const imports = (file: string, module: RegExp) =>
  [...readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:from|require\(|import\()\s*['"]([^'"]+)['"]/g)].some(
    ([, specifier]) => module.test(specifier),
  );

describe('tests compute TOTP codes independently of the code under test', () => {
  const files = sources(join(ROOT, 'test'));

  it('finds the test sources it checks', () => {
    expect(files).toContain(ALGORITHM_TEST);
    expect(files).toContain('test/support/totp.ts');
  });

  it('imports the TOTP algorithm only in its own test', () => {
    expect(files.filter((file) => imports(file, /totp-algorithm$/))).toEqual([ALGORITHM_TEST]);
  });

  it('never imports speakeasy (the library the algorithm is built on)', () => {
    expect(files.filter((file) => imports(file, /^speakeasy$/))).toEqual([]);
  });
});
