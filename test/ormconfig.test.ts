import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');

describe('the migration commands', () => {
  it('without DATABASE_URL, say what to set instead of failing on SQLite', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tf-migrations-'));
    const result = spawnSync(
      process.execPath,
      [join(root, 'node_modules', 'typeorm', 'cli.js'), 'migration:run', '-d', join(root, 'dist', 'ormconfig.js')],
      {
        cwd,
        env: { PATH: process.env.PATH, DATA_DIR: cwd },
        encoding: 'utf8',
      },
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set DATABASE_URL=mysql://');
  });
});
