import type { EntityManager } from 'typeorm';
import type { Database, Statement } from '../../infra/db/database';
import { OnePerUserRepository } from '../../infra/db/one-per-user.repository';
import { rawDate, sqlTime } from '../../infra/db/raw-values';
import { Table } from '../../infra/db/table';
import type { StatusPart } from '../../users/status-part';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { TotpFactorRecord } from './totp-factor.entity';

const totpFactors = new Table(TotpFactorRecord);

/** The authenticator in every status read: when it was set up and last used. */
export const TOTP_STATUS: StatusPart = {
  method: TwoFactorMethod.TOTP,
  select: `totp.${totpFactors.column('userId')} AS totp_user, totp.${totpFactors.column('createdAt')} AS totp_created_at,
              totp.${totpFactors.column('lastUsedAt')} AS totp_last_used_at`,
  join: `LEFT JOIN ${totpFactors.name} totp ON totp.${totpFactors.column('userId')} = u.id`,
  read(row) {
    if (row.totp_user === null || row.totp_user === undefined) return { has: false };
    return {
      has: true,
      shows: { totp: { createdAt: rawDate(row.totp_created_at)!, lastUsedAt: rawDate(row.totp_last_used_at) } },
    };
  },
};

/** Confirmed TOTP authenticators: at most one a user. */
export class TotpFactorRepository extends OnePerUserRepository<TotpFactorRecord> {
  constructor(private readonly database: Database) {
    super(TotpFactorRecord);
  }

  /** The answer path's read of the user's encrypted secret (ADR 0013): no row without an authenticator. */
  secretRead(userId: string): Statement {
    return {
      sql: `SELECT ${totpFactors.columns('secretCiphertext')} FROM ${totpFactors.name} WHERE ${totpFactors.column('userId')} = ?`,
      parameters: [userId],
    };
  }

  /** What `secretRead` found. */
  secretOf(rows: Record<string, unknown>[]): string | null {
    return rows.length === 0 ? null : totpFactors.row(rows[0], 'secretCiphertext').secretCiphertext;
  }

  /** The authenticator's last use, queued with the answer's COMMIT. */
  async recordUse(manager: EntityManager, userId: string, now: Date): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${totpFactors.name} SET ${totpFactors.assignments('lastUsedAt')} WHERE ${totpFactors.column('userId')} = ?`,
      parameters: [sqlTime(now), userId],
    });
  }
}
