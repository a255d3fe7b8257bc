import type { EntityManager } from 'typeorm';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import { OrganizationDeletionRecord } from './organization-deletion.entity';

/** The tables of an organization's members that go with it, in batches (each keyed by organization_id first). */
const PURGED_TABLES = ['memberships', 'two_factor_exemptions', 'grace_period_reminders'] as const;
type PurgedTable = (typeof PURGED_TABLES)[number];

/**
 * Removes the memberships of deleted organizations in the background, a bounded
 * batch per statement, so no transaction holds a million row locks. The deletion
 * itself (the organization's row, gone from every read at once) committed
 * before; a crash leaves its record in `organization_deletions`, and the next run
 * goes on where this one stopped. A batch never touches an organization that
 * exists again under the same id.
 */
export class OrganizationPurge {
  constructor(
    private readonly database: Database,
    private readonly batchSize: number = LIMITS.purgeBatchSize,
  ) {}

  /** Every pending deletion, oldest first; returns the memberships removed. */
  async run(): Promise<number> {
    let removed = 0;
    for (;;) {
      const next = await this.database.run((manager) =>
        manager.find(OrganizationDeletionRecord, { order: { deletedAt: 'ASC' }, take: 1 }),
      );
      if (next.length === 0) return removed;
      removed += await this.finish(next[0].organizationId);
    }
  }

  /**
   * Removes what is left of one deleted organization's memberships (and its
   * members' exemptions and its grace periods' reminders), then its deletion record.
   */
  async finish(organizationId: string): Promise<number> {
    let removed = 0;
    for (const table of PURGED_TABLES) {
      for (;;) {
        const count = await this.database.run((manager) => this.deleteBatch(manager, table, organizationId));
        if (table === 'memberships') removed += count;
        if (count < this.batchSize) break;
      }
    }
    await this.database.transaction((manager) => manager.delete(OrganizationDeletionRecord, { organizationId }));
    return removed;
  }

  private async deleteBatch(manager: EntityManager, table: PurgedTable, organizationId: string): Promise<number> {
    const gone = 'NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = ?)';
    if (this.database.isMysql) {
      const result: { affectedRows: number } = await manager.query(
        `DELETE FROM ${table} WHERE organization_id = ? AND ${gone} LIMIT ${this.batchSize}`,
        [organizationId, organizationId],
      );
      return result.affectedRows;
    }
    const before: { n: number }[] = await manager.query(
      `SELECT COUNT(*) AS n FROM ${table} WHERE organization_id = ?`,
      [organizationId],
    );
    await manager.query(
      `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE organization_id = ? AND ${gone} LIMIT ${this.batchSize})`,
      [organizationId, organizationId],
    );
    const after: { n: number }[] = await manager.query(`SELECT COUNT(*) AS n FROM ${table} WHERE organization_id = ?`, [
      organizationId,
    ]);
    return Number(before[0].n) - Number(after[0].n);
  }
}
