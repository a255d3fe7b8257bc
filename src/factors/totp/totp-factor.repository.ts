import type { EntityManager } from 'typeorm';
import { OnePerUserRepository } from '../../infra/db/repositories/one-per-user.repository';
import { TotpFactorRecord } from './totp-factor.entity';

/** Confirmed TOTP authenticators: at most one a user. */
export class TotpFactorRepository extends OnePerUserRepository<TotpFactorRecord> {
  constructor() {
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
}
