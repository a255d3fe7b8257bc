import { LessThan } from 'typeorm';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { Background } from '../module';
import { EncryptionInstanceRecord } from './encryption-instance.entity';
import type { KeyRotation, KeyRotationOptions, RotationTotals } from './key-rotation';

/** GET_LOCK names are server-wide: this one names the database, so services on other databases never wait on it. */
const ROTATION_LOCK = "CONCAT('twofactor_key_rotation_', MD5(DATABASE()))";

/** Instances sealing with another key than this one, by that key. */
export interface OtherKey {
  keyId: string;
  instances: number;
}

/** Which key each running instance seals with (EncryptionInstanceRecord). */
export class EncryptionInstances {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  /** This instance is alive and seals with `keyId`; rows of instances gone a day are removed. */
  async announce(instanceId: string, keyId: string): Promise<void> {
    const now = this.clock.now();
    await this.database.transaction(async (manager) => {
      await manager.upsert(EncryptionInstanceRecord, { instanceId, currentKeyId: keyId, seenAt: now }, ['instanceId']);
      await manager.delete(EncryptionInstanceRecord, { seenAt: LessThan(new Date(now.getTime() - 86_400_000)) });
    });
  }

  /** Live instances (heard of within LIMITS.keyInstanceTtlSeconds) that seal with another key than `keyId`. */
  async sealingOtherwise(keyId: string): Promise<OtherKey[]> {
    const since = new Date(this.clock.now().getTime() - LIMITS.keyInstanceTtlSeconds * 1000);
    const rows = await this.database.run((manager) =>
      manager
        .createQueryBuilder(EncryptionInstanceRecord, 'instance')
        .select('instance.currentKeyId', 'keyId')
        .addSelect('COUNT(*)', 'instances')
        .where('instance.seenAt > :since', { since })
        .andWhere('instance.currentKeyId <> :keyId', { keyId })
        .groupBy('instance.currentKeyId')
        .getRawMany<{ keyId: string; instances: unknown }>(),
    );
    return rows.map((row) => ({ keyId: String(row.keyId), instances: Number(row.instances) }));
  }

  async leave(instanceId: string): Promise<void> {
    await this.database.run((manager) => manager.delete(EncryptionInstanceRecord, { instanceId }));
  }
}

/**
 * Runs `work` while holding the rotation lock (MySQL's GET_LOCK on a connection
 * of its own, released if the process dies): one re-encryption at a time, on
 * any instance or the CLI. Null when another holds it past `waitSeconds`. The
 * embedded SQLite file has one process: no lock.
 */
export async function withRotationLock<T>(
  database: Database,
  work: () => Promise<T>,
  waitSeconds = 0,
): Promise<T | null> {
  if (!database.isMysql) return work();
  const runner = database.dataSource.createQueryRunner();
  try {
    const [{ acquired }] = await runner.query(`SELECT GET_LOCK(${ROTATION_LOCK}, ?) AS acquired`, [waitSeconds]);
    if (Number(acquired) !== 1) return null;
    try {
      return await work();
    } finally {
      await runner.query(`SELECT RELEASE_LOCK(${ROTATION_LOCK})`).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

export interface KeyRotationJobDependencies {
  database: Database;
  instances: EncryptionInstances;
  rotation: KeyRotation;
  instanceId: string;
  currentKeyId: string;
  logger: Logger;
  /** After each pass that ran (the counts in /metrics are read afresh). */
  afterPass?: (totals: RotationTotals) => void;
  /** Tests: batch size and a hook between a batch's read and write. */
  options?: Pick<KeyRotationOptions, 'batchSize' | 'beforeWrite'>;
}

/**
 * The background half of key rotation, on every instance: every
 * LIMITS.keyRotationIntervalSeconds it says which key it seals with and, when
 * every live instance seals with the same one, re-encrypts what is not under it
 * (KeyRotation), holding the rotation lock, so one instance works at a time and
 * the others skip their turn. Stopping ends a pass between two batches.
 */
export class KeyRotationJob implements Background {
  private readonly job: PeriodicJob;
  private stopped = false;
  /** The other keys last logged as blocking re-encryption (logged again only when they change). */
  private blockedBy = '';

  constructor(private readonly deps: KeyRotationJobDependencies) {
    this.job = new PeriodicJob(
      'key rotation',
      LIMITS.keyRotationIntervalSeconds * 1000,
      () => this.turn(),
      deps.logger,
    );
  }

  start(): void {
    this.job.start();
  }

  runOnce(): Promise<void> {
    return this.job.runOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.job.stop();
    // Gone at once rather than after its time to live: the others need not wait for it.
    await this.deps.instances
      .leave(this.deps.instanceId)
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'key rotation: could not remove this instance; its row lapses'),
      );
  }

  /** One turn; the totals when it re-encrypted, null when another instance or configuration kept it from it. */
  async turn(): Promise<RotationTotals | null> {
    const { instances, instanceId, currentKeyId, logger } = this.deps;
    await instances.announce(instanceId, currentKeyId);
    const others = await instances.sealingOtherwise(currentKeyId);
    const blockedBy = others.map((other) => `${other.keyId} (${other.instances})`).join(', ');
    if (blockedBy !== this.blockedBy) {
      this.blockedBy = blockedBy;
      if (others.length > 0)
        logger.warn(
          { currentKeyId, others },
          'key rotation waits: other instances seal with another key; it goes on once every instance seals with the same',
        );
    }
    if (others.length > 0) return null;
    const totals = await withRotationLock(this.deps.database, () =>
      this.deps.rotation.run({ ...this.deps.options, shouldStop: () => this.stopped }),
    );
    if (totals) {
      this.deps.afterPass?.(totals);
      if (totals.rewritten + totals.refused + totals.changedMeanwhile > 0)
        logger.info({ ...totals, currentKeyId }, 'key rotation: stored values re-encrypted under the current key');
    }
    return totals;
  }
}
