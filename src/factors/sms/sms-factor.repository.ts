import type { EntityManager } from 'typeorm';
import type { Database, Statement } from '../../infra/db/database';
import { OnePerUserRepository } from '../../infra/db/one-per-user.repository';
import { sqlTime } from '../../infra/db/raw-values';
import { Table } from '../../infra/db/table';
import { SmsFactorRecord } from './sms-factor.entity';

const smsFactors = new Table(SmsFactorRecord);

/** Confirmed phone numbers: at most one a user. */
export class SmsFactorRepository extends OnePerUserRepository<SmsFactorRecord> {
  constructor(private readonly database: Database) {
    super(SmsFactorRecord);
  }

  /** The answer path's read of the confirmed number's keyed hash (ADR 0013): no row without a number. */
  phoneHashRead(userId: string): Statement {
    return {
      sql: `SELECT ${smsFactors.columns('phoneHash')} FROM ${smsFactors.name} WHERE ${smsFactors.column('userId')} = ?`,
      parameters: [userId],
    };
  }

  phoneHashOf(rows: Record<string, unknown>[]): string | null {
    return rows.length === 0 ? null : smsFactors.row(rows[0], 'phoneHash').phoneHash;
  }

  /** The number's last use, queued with the answer's COMMIT. */
  async recordUse(manager: EntityManager, userId: string, now: Date): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${smsFactors.name} SET ${smsFactors.assignments('lastUsedAt')} WHERE ${smsFactors.column('userId')} = ?`,
      parameters: [sqlTime(now), userId],
    });
  }
}
