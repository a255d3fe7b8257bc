import type { EntityManager } from 'typeorm';
import type { Database } from '../../infra/db/database';
import { sqlTime } from '../../infra/db/raw-values';
import { OnePerUserRepository } from '../../infra/db/repositories/one-per-user.repository';
import { TotpFactorRecord } from './totp-factor.entity';

/** Confirmed TOTP authenticators: at most one a user. */
export class TotpFactorRepository extends OnePerUserRepository<TotpFactorRecord> {
  constructor(private readonly database: Database) {
    super(TotpFactorRecord);
  }

  /** The encrypted secret of the user's authenticator; null without one. Plain SQL: every TOTP answer reads it (ADR 0005). */
  async secretOf(manager: EntityManager, userId: string): Promise<string | null> {
    const rows: { secret_ciphertext: string }[] = await manager.query(
      'SELECT secret_ciphertext FROM totp_factors WHERE user_id = ?',
      [userId],
    );
    return rows[0]?.secret_ciphertext ?? null;
  }

  /**
   * Accepts a code of `step` from the user's authenticator: records the step as
   * the user's last (only if later than every step used before: of two requests
   * racing with the same code, one wins) and the authenticator as used now. On
   * MySQL one statement does both; false when the step was not later.
   */
  async acceptStep(manager: EntityManager, userId: string, step: number, now: Date): Promise<boolean> {
    if (this.database.isMysql) {
      // Both rows match on success (the client counts matched rows), none otherwise.
      const matched = await this.database.write(
        manager,
        `UPDATE users u JOIN totp_factors t ON t.user_id = u.id
            SET u.last_totp_step = ?, t.last_used_at = ?
          WHERE u.id = ? AND (u.last_totp_step IS NULL OR u.last_totp_step < ?)`,
        [step, sqlTime(now), userId, step],
      );
      return matched > 0;
    }
    const advanced = await this.database.write(
      manager,
      'UPDATE users SET last_totp_step = ? WHERE id = ? AND (last_totp_step IS NULL OR last_totp_step < ?)',
      [step, userId, step],
    );
    if (advanced !== 1) return false;
    await this.database.write(manager, 'UPDATE totp_factors SET last_used_at = ? WHERE user_id = ?', [
      sqlTime(now),
      userId,
    ]);
    return true;
  }
}
