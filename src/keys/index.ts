import type { AuditLog } from '../audit/audit-log';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import type { Module } from '../module';
import { CiphertextRefusals } from './refusals';

interface KeysNeeds {
  database: Database;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  metrics: Pick<Metrics, 'registry'>;
}

/**
 * Encryption keys (docs/adr/0022-ciphertexts-bound-and-rotated.md): audits
 * every refused ciphertext, wherever it was read.
 */
export const keysModule: Module<KeysNeeds> = {
  name: 'keys',
  create({ database, secrets, clock, logger, audit, metrics }) {
    const refusals = new CiphertextRefusals({ database, audit, clock, logger, registry: metrics.registry });
    secrets.onRefused((refusal) => refusals.heard(refusal));
    return { background: [{ start() {}, stop: () => refusals.settled() }] };
  },
};
