import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { WebhookRepository } from './webhook.repository';

/** GET_LOCK names are server-wide: this one names the database, so services on other databases of the server never wait on it. */
export const PURGE_LOCK = "CONCAT('twofactor_webhook_purge_', MD5(DATABASE()))";
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Retention (WEBHOOK_RETENTION_DAYS): delivered and failed deliveries, and the
 * events no delivery needs any more, go once older than the retention, in
 * batches of LIMITS.webhookPurgeBatch rows, each its own short transaction.
 * Every instance runs it; on MySQL an advisory lock (GET_LOCK, not waited for)
 * lets one purge at a time, the others skip that round. Two at once would only
 * delete the same rows twice over.
 */
export class OutboxPurger {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      repository: WebhookRepository;
      clock: Clock;
      logger: Logger;
      retentionDays: number;
    },
  ) {}

  /** Purges every LIMITS.webhookPurgeIntervalSeconds, the first time a random minute or so after start. */
  start(): void {
    const interval = LIMITS.webhookPurgeIntervalSeconds * 1000;
    const run = () => {
      this.running = this.runOnce().catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'webhooks: the retention purge failed; it runs again later'),
      );
      this.timer = setTimeout(run, interval);
      this.timer.unref();
    };
    this.timer = setTimeout(run, 30_000 + Math.floor(Math.random() * 60_000));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
  }

  /** One purge; returns the rows deleted, or null when another instance holds the lock. */
  async runOnce(): Promise<{ deliveries: number; events: number } | null> {
    const { database, repository, clock, retentionDays } = this.deps;
    const cutoff = new Date(clock.now().getTime() - retentionDays * DAY_MS);
    const purge = async () => {
      const total = { deliveries: 0, events: 0 };
      for (;;) {
        const batch = await repository.purgeBatch(cutoff, LIMITS.webhookPurgeBatch);
        total.deliveries += batch.deliveries;
        total.events += batch.events;
        if (batch.deliveries < LIMITS.webhookPurgeBatch && batch.events < LIMITS.webhookPurgeBatch) return total;
      }
    };
    if (!database.isMysql) return purge();
    const runner = database.dataSource.createQueryRunner();
    try {
      const [{ acquired }] = await runner.query(`SELECT GET_LOCK(${PURGE_LOCK}, 0) AS acquired`);
      if (Number(acquired) !== 1) return null;
      try {
        return await purge();
      } finally {
        await runner.query(`SELECT RELEASE_LOCK(${PURGE_LOCK})`).catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  }
}
