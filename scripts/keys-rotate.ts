import 'reflect-metadata';
import { Registry } from 'prom-client';
import { AuditEventRepository } from '../src/audit/audit-event.repository';
import { AuditLog } from '../src/audit/audit-log';
import { ConfigError, loadConfig } from '../src/config/config';
import { loadDotEnv } from '../src/config/dotenv';
import { systemClock } from '../src/infra/clock';
import { SecretBox } from '../src/infra/crypto/cipher';
import { createDataSource, detectMysqlFlavor } from '../src/infra/db/data-source';
import { Database } from '../src/infra/db/database';
import { migrate } from '../src/infra/db/migrate';
import { createLogger } from '../src/infra/logger';
import { describeKeyProblems, KeyInventory } from '../src/keys/key-inventory';
import { KeyRotation, type RotationProgress } from '../src/keys/key-rotation';
import { EncryptionInstances, withRotationLock } from '../src/keys/key-rotation-job';
import { CiphertextRefusals } from '../src/keys/refusals';
import { StoredCiphertexts } from '../src/keys/stored-ciphertexts';
import { LIMITS } from '../src/limits';
import { CIPHERTEXTS, DATABASE_SCHEMA } from '../src/modules';

const USAGE = `usage: npm run keys:rotate [-- --batch-size <1-${LIMITS.keyRotationBatch * 10}>]

Re-encrypts every stored secret (TOTP secrets, phone numbers, recovery codes,
pending setups, webhook secrets) that is not under the current key, the first of
ENCRYPTION_KEYS, and rewrites values from before associated data bound to their
row, in the database of DATABASE_URL, while the service serves. Batches of
${LIMITS.keyRotationBatch} (each row compared and set on its old value: a row a
request changes meanwhile keeps that change); stopped or killed anywhere, run it
again: it goes on where it stopped, nothing is lost. One at a time with the
instances' own background re-encryption (a lock in the database), and only once
every running instance encrypts with the same current key.

When it says 0 values are left under a key, that key may be removed from
ENCRYPTION_KEYS (start refuses to run without a key some value still needs).

  npm run keys:rotate
`;

/** Exit 0: every readable value is under the current key; 1: values are left (said why); 2: misused. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const batchSize = batchSizeOf(args);
  if (batchSize === null) {
    process.stderr.write(USAGE);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig();
  if (config.database.kind !== 'mysql') {
    process.stderr.write(
      'npm run keys:rotate works on the shared database: set DATABASE_URL=mysql://user:password@host:3306/db.\n' +
        'The embedded default (SQLite, one process) re-encrypts by itself: restart it with the new ENCRYPTION_KEYS.\n',
    );
    return 2;
  }
  const logger = createLogger('warn');
  const dataSource = createDataSource(config.database, DATABASE_SCHEMA, {
    flavor: await detectMysqlFlavor(config.database.url),
  });
  await dataSource.initialize();
  const refusals: CiphertextRefusals[] = [];
  try {
    if (config.migrationsRun) await migrate(dataSource, logger);
    const database = new Database(dataSource);
    const secrets = new SecretBox(config.encryption.keys);
    const current = secrets.currentKeyId;
    const columns = CIPHERTEXTS.map((declaration) => new StoredCiphertexts(declaration, database));
    const inventory = new KeyInventory(secrets, columns);
    for (const problem of describeKeyProblems(await inventory.problems(), secrets.keyIds))
      process.stderr.write(`warning: ${problem}\n`);

    const others = await new EncryptionInstances(database, systemClock).sealingOtherwise(current);
    if (others.length > 0) {
      const list = others.map((other) => `${other.instances} with key ${other.keyId}`).join(', ');
      process.stderr.write(
        `running instances encrypt with another key than ${current} (${list}): re-encrypting now would be undone.\n` +
          `Give every instance ENCRYPTION_KEYS with ${current} first, then run this again.\n`,
      );
      return 1;
    }

    // Refusals are audited here as in the service (CIPHERTEXT_REFUSED).
    const recorder = new CiphertextRefusals({
      database,
      audit: new AuditLog(new AuditEventRepository(database)),
      clock: systemClock,
      logger,
      registry: new Registry(),
    });
    refusals.push(recorder);
    secrets.onRefused((refusal) => recorder.heard(refusal));

    let stopped = false;
    process.once('SIGINT', () => {
      stopped = true;
      process.stdout.write('\nstopping after this batch; run it again to go on\n');
    });
    const rotation = new KeyRotation(secrets, columns);
    let lastLine = 0;
    const progress = (totals: RotationProgress) => {
      if (Date.now() - lastLine < 1_000 && lastLine > 0) return;
      lastLine = Date.now();
      process.stdout.write(
        `re-encrypted ${totals.rewritten} (${totals.column}); changed meanwhile ${totals.changedMeanwhile}, refused ${totals.refused}\n`,
      );
    };
    process.stdout.write(`re-encrypting under key ${current}, batches of ${batchSize}\n`);
    let totals = null;
    while (!totals && !stopped) {
      totals = await withRotationLock(
        database,
        () => rotation.run({ batchSize, onBatch: progress, shouldStop: () => stopped }),
        10,
      );
      if (!totals) process.stdout.write('an instance is re-encrypting now: waiting for it\n');
    }
    if (!totals) return 1;
    process.stdout.write(
      `done: ${totals.rewritten} re-encrypted, ${totals.changedMeanwhile} changed meanwhile (left as changed), ` +
        `${totals.refused} refused (do not open for their row: audited), ${totals.unreadable} key ids not readable here\n`,
    );
    const counts = await inventory.counts();
    for (const count of counts)
      process.stdout.write(
        `key ${count.keyId}${count.keyId === current ? ' (current)' : ''}: ${count.values} values` +
          (count.unbound > 0 ? `, ${count.unbound} from before associated data` : '') +
          '\n',
      );
    const behind = counts.filter((count) => (count.keyId === current ? count.unbound : count.values) > 0);
    if (stopped || behind.length > 0 || totals.refused > 0) {
      process.stdout.write(
        stopped
          ? 'stopped: run it again to go on\n'
          : 'values are left under other keys (refused, written meanwhile, or unreadable here): see above\n',
      );
      return 1;
    }
    process.stdout.write(`every value is under key ${current}: the other keys may be removed from ENCRYPTION_KEYS\n`);
    return 0;
  } finally {
    await Promise.all(refusals.map((recorder) => recorder.settled()));
    await dataSource.destroy();
  }
}

function batchSizeOf(args: string[]): number | null {
  if (args.length === 0) return LIMITS.keyRotationBatch;
  const [flag, value] = args.length === 1 ? args[0].split('=') : args;
  const size = Number(value);
  if (flag !== '--batch-size' || !Number.isInteger(size) || size < 1 || size > LIMITS.keyRotationBatch * 10)
    return null;
  return size;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`npm run keys:rotate failed: ${(error as NodeJS.ErrnoException)?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
