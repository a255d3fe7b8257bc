import type { EntityManager } from 'typeorm';
import type { Database, Statement } from '../../infra/db/database';
import { OnePerUserRepository } from '../../infra/db/one-per-user.repository';
import { rawDate, sqlTime } from '../../infra/db/raw-values';
import { Table } from '../../infra/db/table';
import type { StatusPart } from '../../users/status-part';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { SmsFactorRecord } from './sms-factor.entity';

const smsFactors = new Table(SmsFactorRecord);

/** The number in every status read: masked, never whole. */
export const SMS_STATUS: StatusPart = {
  method: TwoFactorMethod.SMS,
  select: `sms.${smsFactors.column('userId')} AS sms_user, sms.${smsFactors.column('phoneMasked')} AS sms_phone_masked,
              sms.${smsFactors.column('createdAt')} AS sms_created_at, sms.${smsFactors.column('lastUsedAt')} AS sms_last_used_at`,
  join: `LEFT JOIN ${smsFactors.name} sms ON sms.${smsFactors.column('userId')} = u.id`,
  read(row) {
    if (row.sms_user === null || row.sms_user === undefined) return { has: false };
    return {
      has: true,
      shows: {
        sms: {
          phoneNumberMasked: String(row.sms_phone_masked),
          createdAt: rawDate(row.sms_created_at)!,
          lastUsedAt: rawDate(row.sms_last_used_at),
        },
      },
    };
  },
};

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
