// Key rotation under load (issue 26): a million TOTP secrets stored under an
// older key, re-encrypted by `npm run keys:rotate` (the built service's own
// dist/scripts/keys-rotate.js, the same code as the instances' background job)
// while the TOTP verifications are measured. The figures: values re-encrypted
// per second meanwhile, how many, and the CPU the re-encryption took.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cpuTimes } from './processes.mjs';

/** TOTP secrets under the older key: the million. */
export const ROTATION_VALUES = 1_000_000;
/** The older key's id in ENCRYPTION_KEYS (the service's own key is ENCRYPTION_KEY's id 0). */
const OLD_KEY_ID = 'bench-old';
const INSERT_ROWS = 5_000;
/** The index of the column (src/factors/totp/totp-factor.entity.ts): rebuilt once after the bulk insert, sorted. */
const CIPHERTEXT_INDEX = 'idx_totp_factors_secret_ciphertext';

/** Why the rotation pass cannot run on this build (an older one: no keys:rotate), or null. */
export function rotationSkip(serviceRoot) {
  return existsSync(join(serviceRoot, 'dist/scripts/keys-rotate.js')) ? null : 'skipped: not implemented';
}

/**
 * Seeds `count` TOTP factors sealed under an older key than the service's, as
 * the built service seals them (its own SecretBox: the format cannot drift),
 * bound to their rows. No `users` rows: nobody logs in as them, they are only
 * re-encrypted. The column's index is dropped for the insert and built again
 * after it (a sorted build, not a million random inserts: seconds, not a minute);
 * the table ends as the migrations leave it. Returns the older key (base64) and
 * how long the seeding took.
 */
export async function seedRotationValues({ databaseUrl, connect, serviceRoot, count = ROTATION_VALUES, log }) {
  const require = createRequire(import.meta.url);
  const { SecretBox } = require(`${serviceRoot}/dist/src/infra/crypto/cipher.js`);
  const { base32Encode } = require(`${serviceRoot}/dist/src/infra/crypto/random.js`);
  const oldKey = randomBytes(32);
  const box = new SecretBox([{ id: OLD_KEY_ID, key: oldKey }]);
  const started = performance.now();
  const connection = await connect(databaseUrl);
  try {
    const now = new Date();
    await connection.query(`ALTER TABLE totp_factors DROP INDEX ${CIPHERTEXT_INDEX}`);
    for (let offset = 0; offset < count; offset += INSERT_ROWS) {
      const rows = [];
      for (let index = offset; index < Math.min(count, offset + INSERT_ROWS); index += 1) {
        const userId = `brot-u${String(index).padStart(7, '0')}`;
        rows.push([userId, box.seal(base32Encode(randomBytes(20)), { purpose: 'totp-secret', row: userId }), now]);
      }
      await connection.query('INSERT INTO totp_factors (user_id, secret_ciphertext, created_at) VALUES ?', [rows]);
      if (offset % 200_000 === 0 && offset > 0) log?.(`  ${offset} TOTP secrets under the older key`);
    }
    await connection.query(`ALTER TABLE totp_factors ADD INDEX ${CIPHERTEXT_INDEX} (secret_ciphertext)`);
    await connection.query('ANALYZE TABLE totp_factors');
  } finally {
    await connection.end();
  }
  return {
    oldKeyBase64: oldKey.toString('base64'),
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
}

/**
 * `npm run keys:rotate` against the service's database, with the service's key
 * current (so the instances agree with it) and the older one after it.
 * `start()` resolves once it has written its first batch (re-encryption is under
 * way when the measured pass begins); `stop()` interrupts it (SIGINT: it ends
 * after its batch) and returns the figures.
 */
export class KeyRotationRun {
  constructor({ serviceRoot, databaseUrl, currentKeyBase64, oldKeyBase64, env, workDir }) {
    this.script = join(serviceRoot, 'dist/scripts/keys-rotate.js');
    // The same key under ENCRYPTION_KEYS' id 0: the two forms together are refused.
    const settings = { ...env };
    delete settings.ENCRYPTION_KEY;
    this.env = {
      ...settings,
      DATABASE_URL: databaseUrl,
      MIGRATIONS_RUN: 'false',
      DATA_DIR: workDir,
      ENCRYPTION_KEYS: `0:${currentKeyBase64},${OLD_KEY_ID}:${oldKeyBase64}`,
    };
    this.cwd = workDir;
  }

  async start() {
    const child = spawn(process.execPath, [this.script], {
      cwd: this.cwd,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let output = '';
    let rewritten = 0;
    const exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        process.off('exit', killOnExit);
        resolve({ code, signal, at: performance.now() });
      }),
    );
    const firstBatch = new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += chunk.toString();
        for (const match of chunk.toString().matchAll(/(?:re-encrypted|done:) (\d+)/g)) rewritten = Number(match[1]);
        if (rewritten > 0) resolve();
      });
      child.stderr.on('data', (chunk) => (output += chunk.toString()));
      exited.then((exit) => reject(new Error(`keys:rotate exited (${exit.code}) before its first batch:\n${output}`)));
    });
    await firstBatch;
    const from = { at: performance.now(), rewritten, cpu: cpuTimes({ rotation: child.pid }).rotation };
    return {
      stop: async () => {
        const cpu = cpuTimes({ rotation: child.pid }).rotation;
        const stoppedAt = performance.now();
        child.kill('SIGINT');
        const exit = await exited;
        // Finished before the pass ended: its rate counts up to its exit.
        const until = exit.code === 0 ? Math.min(exit.at, stoppedAt) : stoppedAt;
        const seconds = (until - from.at) / 1000;
        const done = rewritten - from.rewritten;
        return {
          valuesPerSecond: Math.round(done / seconds),
          valuesReencrypted: rewritten,
          valuesDuringPass: done,
          seconds: Number(seconds.toFixed(1)),
          finished: exit.code === 0,
          cpuUsPerValue: cpu === null || from.cpu === null ? null : Math.round((cpu - from.cpu) / Math.max(1, done)),
          projectedSecondsForAMillion: done > 0 ? Math.round((ROTATION_VALUES / done) * seconds) : null,
        };
      },
    };
  }
}
