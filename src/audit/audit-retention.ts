import { In } from 'typeorm';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import { AuditEventRecord } from './audit-event.entity';

const LOCK_NAME = 'twofactor_audit_retention';

/**
 * Removes audit events older than AUDIT_RETENTION_DAYS, a bounded batch per
 * statement. Every instance runs it; an advisory lock lets one purge at a time
 * (the others skip their turn), so two never delete side by side.
 */
export class AuditRetention {
  constructor(
    private readonly database: Database,
    private readonly retentionDays: number,
    private readonly clock: Clock,
    private readonly batchSize: number = LIMITS.purgeBatchSize,
  ) {}

  /** Returns the events removed (0 when retention is off or another instance is purging). */
  async run(): Promise<number> {
    if (this.retentionDays <= 0) return 0;
    const before = new Date(this.clock.now().getTime() - this.retentionDays * 86_400_000);
    if (!this.database.isMysql) return this.purge(before);
    const runner = this.database.dataSource.createQueryRunner();
    try {
      const [{ acquired }] = await runner.query('SELECT GET_LOCK(?, 0) AS acquired', [LOCK_NAME]);
      if (Number(acquired) !== 1) return 0;
      try {
        return await this.purge(before);
      } finally {
        await runner.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]);
      }
    } finally {
      await runner.release();
    }
  }

  /** A batch of the oldest events is found by id (ids grow with time), then deleted by primary key. */
  private async purge(before: Date): Promise<number> {
    let removed = 0;
    for (;;) {
      const count = await this.database.run(async (manager) => {
        const old = await manager
          .createQueryBuilder(AuditEventRecord, 'event')
          .select('event.id')
          .where('event.occurredAt < :before', { before })
          .orderBy('event.id', 'ASC')
          .limit(this.batchSize)
          .getMany();
        if (old.length > 0) await manager.delete(AuditEventRecord, { id: In(old.map((event) => event.id)) });
        return old.length;
      });
      removed += count;
      if (count < this.batchSize) return removed;
    }
  }
}
