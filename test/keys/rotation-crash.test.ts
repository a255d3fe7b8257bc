import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { totpSecretBinding } from '../../src/factors/totp/totp-factor.entity';
import { SecretBox } from '../../src/infra/crypto/cipher';
import { createDataSource, detectMysqlFlavor } from '../../src/infra/db/data-source';
import { migrate } from '../../src/infra/db/migrate';
import { createLogger } from '../../src/infra/logger';
import { DATABASE_SCHEMA } from '../../src/modules';
import { sealedAsBefore } from '../support/legacy-ciphertexts';
import { createTestDatabase } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const OLD = randomBytes(32);
const NEW = randomBytes(32);
const ROWS = 3_000;

/** `npm run keys:rotate` as an operator runs it (dist/, built by `npm run build`), on the test's database. */
function rotate(databaseUrl: string, dataDir: string, batchSize: number): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'dist/scripts/keys-rotate.js'), '--batch-size', String(batchSize)], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      ENCRYPTION_KEYS: `k2:${NEW.toString('base64')},k1:${OLD.toString('base64')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

/**
 * Re-encryption killed (SIGKILL: no cleanup, a batch possibly half-sent) in the
 * middle of its work, then run again: it finishes, and every value opens to what
 * it was, bound to its row. Nothing is kept between batches but the rows
 * themselves, so there is nothing to lose.
 */
describe('npm run keys:rotate killed mid-rotation', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-keys-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const dataSource = createDataSource({ kind: 'mysql', url: database.url }, DATABASE_SCHEMA, {
      flavor: await detectMysqlFlavor(database.url),
    });
    await dataSource.initialize();
    await migrate(dataSource, createLogger('silent'));
    await dataSource.destroy();
  });
  afterAll(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes when run again, and nothing is lost', async () => {
    const sql = await createConnection({ uri: database.url });
    try {
      // Half of them from before associated data (v1), half sealed under k1 (v2): both must end under k2.
      const old = new SecretBox([{ id: 'k1', key: OLD }]);
      const secrets = new Map<string, string>();
      const rows = Array.from({ length: ROWS }, (_, index) => {
        const userId = `crash-${String(index).padStart(5, '0')}`;
        const secret = randomBytes(20).toString('hex');
        secrets.set(userId, secret);
        const value = index % 2 === 0 ? sealedAsBefore(OLD, secret) : old.seal(secret, totpSecretBinding(userId));
        return [userId, value, new Date()];
      });
      await sql.query('INSERT INTO totp_factors (user_id, secret_ciphertext, created_at) VALUES ?', [rows]);
      const underNew = async () =>
        Number(
          (await sql.query("SELECT COUNT(*) AS n FROM totp_factors WHERE secret_ciphertext LIKE 'v2.k2.%'"))[0][0].n,
        );

      const first = rotate(database.url, dataDir, 20);
      const firstExit = exited(first);
      // Killed as soon as it says it has written a batch: it is in the middle of its work.
      await new Promise<void>((resolve, reject) => {
        first.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('re-encrypted ')) {
            first.kill('SIGKILL');
            resolve();
          }
        });
        first.once('exit', (code) => reject(new Error(`keys:rotate exited (${code}) before its first batch`)));
      });
      expect((await firstExit).signal).toBe('SIGKILL');
      const done = await underNew();
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(ROWS);

      const second = rotate(database.url, dataDir, 200);
      let output = '';
      second.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      second.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      expect((await exited(second)).code).toBe(0);
      expect(output).toContain('every value is under key k2');
      expect(await underNew()).toBe(ROWS);

      const box = new SecretBox([{ id: 'k2', key: NEW }]);
      const [stored] = await sql.query('SELECT user_id, secret_ciphertext FROM totp_factors');
      const opened = (stored as { user_id: string; secret_ciphertext: string }[]).filter(
        (row) => box.open(row.secret_ciphertext, totpSecretBinding(row.user_id)) === secrets.get(row.user_id),
      );
      expect(opened).toHaveLength(ROWS);
    } finally {
      await sql.end();
    }
  });
});
