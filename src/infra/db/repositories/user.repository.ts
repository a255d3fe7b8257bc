import { In, type EntityManager } from 'typeorm';
import type { Database } from '../database';
import { UserRecord } from '../entities';
import { rawBoolean, rawDate, rawNumber } from '../raw-values';

const USER_COLUMNS =
  'id, two_factor_enabled, phishing_resistant, enabled_at, failed_attempts_in_row, last_totp_step, recovery_codes_generated_at, created_at';

/** A user's two-factor status as stored: the user's row, its factors and the unused codes. */
export interface StatusRow {
  id: string;
  twoFactorEnabled: boolean;
  enabledAt: Date | null;
  failedAttemptsInRow: number;
  totp: { createdAt: Date; lastUsedAt: Date | null } | null;
  sms: { phoneMasked: string; createdAt: Date; lastUsedAt: Date | null } | null;
  unusedRecoveryCodes: number;
  webAuthnCredentials: number;
}

/** Users' two-factor rows: one small query per method. */
export class UserRepository {
  constructor(private readonly database: Database) {}

  findMany(manager: EntityManager, ids: string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return manager.findBy(UserRecord, { id: In(ids) });
  }

  /** Everything a status shows, for many users, in one query (users without a row are absent). */
  async statusRows(manager: EntityManager, ids: string[]): Promise<StatusRow[]> {
    if (ids.length === 0) return [];
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT u.id, u.two_factor_enabled, u.enabled_at, u.failed_attempts_in_row,
              t.user_id AS totp_user, t.created_at AS totp_created_at, t.last_used_at AS totp_last_used_at,
              s.user_id AS sms_user, s.phone_masked, s.created_at AS sms_created_at, s.last_used_at AS sms_last_used_at,
              (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS unused_recovery_codes,
              (SELECT COUNT(*) FROM webauthn_credentials w WHERE w.user_id = u.id) AS webauthn_credentials
         FROM users u
         LEFT JOIN totp_factors t ON t.user_id = u.id
         LEFT JOIN sms_factors s ON s.user_id = u.id
        WHERE u.id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return rows.map((row) => ({
      id: String(row.id),
      twoFactorEnabled: rawBoolean(row.two_factor_enabled),
      enabledAt: rawDate(row.enabled_at),
      failedAttemptsInRow: rawNumber(row.failed_attempts_in_row),
      totp:
        row.totp_user === null
          ? null
          : { createdAt: rawDate(row.totp_created_at)!, lastUsedAt: rawDate(row.totp_last_used_at) },
      sms:
        row.sms_user === null
          ? null
          : {
              phoneMasked: String(row.phone_masked),
              createdAt: rawDate(row.sms_created_at)!,
              lastUsedAt: rawDate(row.sms_last_used_at),
            },
      unusedRecoveryCodes: rawNumber(row.unused_recovery_codes),
      webAuthnCredentials: rawNumber(row.webauthn_credentials),
    }));
  }

  find(manager: EntityManager, id: string): Promise<UserRecord | null> {
    return manager.findOneBy(UserRecord, { id });
  }

  /** How many answers in a row failed; null without a row. Read before every answer is checked (plain SQL: ADR 0005). */
  async failedAttemptsInRow(manager: EntityManager, id: string): Promise<number | null> {
    const rows: Record<string, unknown>[] = await manager.query(
      'SELECT failed_attempts_in_row FROM users WHERE id = ?',
      [id],
    );
    return rows.length === 0 ? null : rawNumber(rows[0].failed_attempts_in_row);
  }

  /**
   * Inserts the user's row unless it exists, holding an exclusive lock on it
   * either way: on a row another transaction just inserted, INSERT IGNORE waits
   * for a shared lock, and two such waiters upgrading to exclusive deadlock;
   * ON DUPLICATE KEY UPDATE waits for the exclusive lock itself, so they queue.
   */
  private async insertLocked(manager: EntityManager, id: string, now: Date): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(UserRecord)
      .values({ id, twoFactorEnabled: false, failedAttemptsInRow: 0, createdAt: now })
      .orUpdate(['id'], ['id'])
      .execute();
  }

  /** The user's row, locked for the rest of the transaction (created first if missing). */
  async lock(manager: EntityManager, id: string, now: Date): Promise<UserRecord> {
    // Plain SQL (ADR 0005): every answer checked takes this lock.
    const query = async () => {
      const rows: Record<string, unknown>[] = await manager.query(
        `SELECT ${USER_COLUMNS} FROM users WHERE id = ?${this.database.forUpdate}`,
        [id],
      );
      return rows.length === 0 ? null : userOf(rows[0]);
    };
    // An existing row (nearly always): one locking read.
    const existing = await query();
    if (existing) return existing;
    // Missing (a new user's first change; parallel requests race here): created already locked.
    await this.insertLocked(manager, id, now);
    return (await query())!;
  }

  async update(manager: EntityManager, id: string, changes: Partial<UserRecord>): Promise<void> {
    await manager.update(UserRecord, { id }, changes);
  }

  /**
   * Records a TOTP step as used, only if it is later than every step used before.
   * One conditional UPDATE: of two requests racing with the same code, one wins.
   */
  async advanceTotpStep(manager: EntityManager, id: string, step: number): Promise<boolean> {
    const changed = await this.database.write(
      manager,
      'UPDATE users SET last_totp_step = ? WHERE id = ? AND (last_totp_step IS NULL OR last_totp_step < ?)',
      [step, id, step],
    );
    return changed === 1;
  }

  async addFailure(manager: EntityManager, id: string): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(UserRecord)
      .set({ failedAttemptsInRow: () => 'failed_attempts_in_row + 1' })
      .where('id = :id', { id })
      .execute();
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.delete(UserRecord, { id });
  }
}

function userOf(row: Record<string, unknown>): UserRecord {
  return Object.assign(new UserRecord(), {
    id: String(row.id),
    twoFactorEnabled: rawBoolean(row.two_factor_enabled),
    phishingResistant: rawBoolean(row.phishing_resistant),
    enabledAt: rawDate(row.enabled_at),
    failedAttemptsInRow: rawNumber(row.failed_attempts_in_row),
    lastTotpStep: row.last_totp_step === null ? null : rawNumber(row.last_totp_step),
    recoveryCodesGeneratedAt: rawDate(row.recovery_codes_generated_at),
    createdAt: rawDate(row.created_at)!,
  });
}
