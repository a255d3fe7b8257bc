import { randomUUID } from 'node:crypto';
import { Gauge } from 'prom-client';
import type { AuditLog } from '../audit/audit-log';
import { ConfigError } from '../config/config';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { CiphertextDeclaration, Module } from '../module';
import { EncryptionInstanceRecord } from './encryption-instance.entity';
import { describeKeyProblems, type KeyCount, KeyInventory } from './key-inventory';
import { KeyRotation } from './key-rotation';
import { EncryptionInstances, KeyRotationJob } from './key-rotation-job';
import { EncryptionInstances1796685498075 } from './migrations/1796685498075-EncryptionInstances';
import { CiphertextRefusals } from './refusals';
import { StoredCiphertexts } from './stored-ciphertexts';

interface KeysNeeds {
  database: Database;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  metrics: Pick<Metrics, 'registry'>;
  /** Every module's columns of ciphertexts (src/module.ts CiphertextDeclaration), from the module list. */
  ciphertexts: readonly CiphertextDeclaration[];
}

/**
 * Encryption keys (docs/adr/0022-ciphertexts-bound-and-rotated.md): at start,
 * refuses to run without a key some stored value needs; counts values per key
 * (`encrypted_values{key_id}`); audits every refused ciphertext; and re-encrypts
 * in the background what is not under the current key. Names no module: the
 * columns are what the modules declare.
 */
export const keysModule: Module<KeysNeeds> = {
  name: 'keys',
  entities: [EncryptionInstanceRecord],
  migrations: [EncryptionInstances1796685498075],
  async create({ database, secrets, clock, logger, audit, metrics, ciphertexts }) {
    const columns = ciphertexts.map((declaration) => new StoredCiphertexts(declaration, database));
    const inventory = new KeyInventory(secrets, columns);
    const problems = await inventory.problems();
    if (problems.length > 0) throw new ConfigError(describeKeyProblems(problems, secrets.keyIds));

    const refusals = new CiphertextRefusals({ database, audit, clock, logger, registry: metrics.registry });
    secrets.onRefused((refusal) => refusals.heard(refusal));
    const counts = watchEncryptedValues(metrics, () => inventory.counts(), clock);

    const instances = new EncryptionInstances(database, clock);
    const instanceId = randomUUID();
    // Said at once, not at the first turn: an instance with another key stops the others' re-encryption from now.
    await instances.announce(instanceId, secrets.currentKeyId);
    const job = new KeyRotationJob({
      database,
      instances,
      rotation: new KeyRotation(secrets, columns),
      instanceId,
      currentKeyId: secrets.currentKeyId,
      logger,
      afterPass: () => counts.invalidate(),
    });
    return { background: [job, { start() {}, stop: () => refusals.settled() }] };
  },
};

/**
 * `encrypted_values{key_id}` and `encrypted_values_unbound{key_id}` (the v1
 * values among them, from before associated data): key ids are the configured
 * ones, or `unknown`. Counting reads every value's index entry, so a scrape
 * reuses counts up to LIMITS.encryptedValuesCountMaxAgeSeconds old (a pass of
 * re-encryption makes them be read afresh); absent while the database cannot answer.
 */
function watchEncryptedValues(metrics: Pick<Metrics, 'registry'>, read: () => Promise<KeyCount[]>, clock: Clock) {
  let cached: { at: number; counts: Promise<KeyCount[]> } | undefined;
  const counts = () => {
    const now = clock.now().getTime();
    if (!cached || now - cached.at > LIMITS.encryptedValuesCountMaxAgeSeconds * 1000) {
      const fresh = { at: now, counts: read() };
      fresh.counts.catch(() => {
        if (cached === fresh) cached = undefined;
      });
      cached = fresh;
    }
    return cached.counts;
  };
  const gauge = (name: string, help: string, value: (count: KeyCount) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['key_id'] as const,
      registers: [metrics.registry],
      async collect() {
        this.reset();
        const read = await counts().catch(() => null);
        for (const count of read ?? []) this.set({ key_id: count.keyId }, value(count));
      },
    });
  gauge(
    'encrypted_values',
    'Stored secrets per encryption key id (ENCRYPTION_KEYS; unknown: a key this instance is not given). A key may be removed once its count is 0.',
    (count) => count.values,
  );
  gauge(
    'encrypted_values_unbound',
    'Of those, values from before associated data (bound to no row): re-encryption rewrites them.',
    (count) => count.unbound,
  );
  return {
    invalidate() {
      cached = undefined;
    },
  };
}
