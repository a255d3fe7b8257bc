import type { EntityManager } from 'typeorm';
import type { Database, Statement } from '../../infra/db/database';
import { rawNumber, sqlTime } from '../../infra/db/raw-values';
import { Table } from '../../infra/db/table';
import type { StatusPart } from '../../users/status-part';
import { RecoveryCodeRecord } from './recovery-code.entity';

const recoveryCodes = new Table(RecoveryCodeRecord);

/** The codes in every status read: how many are unused, shown while two-factor is on. Not a method of their own. */
export const RECOVERY_CODES_STATUS: StatusPart = {
  select: `(SELECT COUNT(*) FROM ${recoveryCodes.name} rc
              WHERE rc.${recoveryCodes.column('userId')} = u.id AND rc.${recoveryCodes.column('usedAt')} IS NULL) AS recovery_codes_unused`,
  read(row, twoFactorEnabled) {
    return {
      has: false,
      shows: { recoveryCodesRemaining: twoFactorEnabled ? rawNumber(row.recovery_codes_unused) : 0 },
    };
  },
};

/** A user's current set of recovery codes. */
export class RecoveryCodeRepository {
  constructor(private readonly database: Database) {}

  list(manager: EntityManager, userId: string): Promise<RecoveryCodeRecord[]> {
    return manager.find(RecoveryCodeRecord, { where: { userId }, order: { position: 'ASC' } });
  }

  async replaceAll(manager: EntityManager, userId: string, codes: Omit<RecoveryCodeRecord, 'id'>[]): Promise<void> {
    await manager.delete(RecoveryCodeRecord, { userId });
    if (codes.length > 0) await manager.insert(RecoveryCodeRecord, codes);
  }

  async deleteAll(manager: EntityManager, userId: string): Promise<void> {
    await manager.delete(RecoveryCodeRecord, { userId });
  }

  /** The answer path's read (ADR 0013): the unused code of the user with any of these keyed hashes. */
  unusedRead(userId: string, hashes: string[]): Statement {
    const { name } = recoveryCodes;
    return {
      sql: `SELECT ${recoveryCodes.columns('id')} FROM ${name}
             WHERE ${recoveryCodes.column('userId')} = ? AND ${recoveryCodes.column('codeHash')} IN (${hashes.map(() => '?').join(', ')})
               AND ${recoveryCodes.column('usedAt')} IS NULL`,
      parameters: [userId, ...hashes],
    };
  }

  unusedOf(rows: Record<string, unknown>[]): number | null {
    return rows.length === 0 ? null : recoveryCodes.row(rows[0], 'id').id;
  }

  /** Marks the code used (queued with the answer's COMMIT; the user's row lock makes the read decisive). */
  async markUsed(manager: EntityManager, id: number, now: Date): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${recoveryCodes.name} SET ${recoveryCodes.assignments('usedAt')} WHERE ${recoveryCodes.column('id')} = ?`,
      parameters: [sqlTime(now), id],
    });
  }
}
