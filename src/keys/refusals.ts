import { Counter, type Registry } from 'prom-client';
import type { AuditLog } from '../audit/audit-log';
import type { Clock } from '../infra/clock';
import type { CiphertextRefused, RefusalReason } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import './signals';

const WHY: Record<RefusalReason, string> = {
  'does-not-open': 'does not open for this row (moved from another row, or altered)',
  'unknown-key': 'is under a key this instance is not given',
  malformed: 'is not a ciphertext this service writes (or its tag is shorter than 16 bytes)',
};

/** Rows remembered for the once-an-interval rule; past this, the oldest are forgotten (audited again, at worst). */
const REMEMBERED = 10_000;

/**
 * What happens when a stored secret is refused, wherever it is (SecretBox tells
 * every refusal): counted in `ciphertexts_refused_total{purpose,reason}` (both
 * closed sets named in code), logged, and audited as CIPHERTEXT_REFUSED in a
 * transaction of its own (the caller's may roll back). The same row refused for
 * the same reason again is logged and audited once an interval per instance:
 * a broken row read on every request is no storm of audit rows.
 */
export class CiphertextRefusals {
  private readonly refused: Counter<'purpose' | 'reason'>;
  private readonly lastAudited = new Map<string, number>();
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly deps: { database: Database; audit: AuditLog; clock: Clock; logger: Logger; registry: Registry },
  ) {
    this.refused = new Counter({
      name: 'ciphertexts_refused_total',
      help: 'Stored secrets that did not open for their row, by purpose (totp-secret, ...) and reason (does-not-open, unknown-key, malformed).',
      labelNames: ['purpose', 'reason'] as const,
      registers: [deps.registry],
    });
  }

  heard(refusal: CiphertextRefused): void {
    const { binding, reason, keyId } = refusal;
    this.refused.inc({ purpose: binding.purpose, reason });
    const now = this.deps.clock.now();
    const row = `${binding.purpose}:${binding.row}:${reason}`;
    const last = this.lastAudited.get(row);
    if (last !== undefined && now.getTime() - last < LIMITS.ciphertextRefusalAuditIntervalSeconds * 1000) return;
    this.lastAudited.delete(row);
    this.lastAudited.set(row, now.getTime());
    if (this.lastAudited.size > REMEMBERED) this.lastAudited.delete(this.lastAudited.keys().next().value!);

    const text = `${binding.purpose}: ${WHY[reason]}${keyId === null ? '' : `; key ${keyId}`}`;
    this.deps.logger.warn(
      { purpose: binding.purpose, reason, keyId, userId: binding.userId },
      'a stored secret was refused: it is not used',
    );
    const write = this.deps.database
      .transaction((manager) =>
        this.deps.audit.record(
          manager,
          { actorId: null, clientIp: null },
          { action: 'CIPHERTEXT_REFUSED', userId: binding.userId ?? null, reason: text },
          now,
        ),
      )
      .catch((error: unknown) =>
        // The refusal stands (nothing was used); the log line above and the metric still tell of it.
        this.deps.logger.warn({ err: error }, 'could not audit a refused ciphertext: the database failed'),
      )
      .finally(() => this.writing.delete(write));
    this.writing.add(write);
  }

  /** Waits for the audit rows being written (at close). */
  async settled(): Promise<void> {
    await Promise.all([...this.writing]);
  }
}
