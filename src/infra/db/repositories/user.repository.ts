import { In, type EntityManager } from 'typeorm';
import { UserRecord } from '../entities';
import type { Database } from '../database';

/** Users' two-factor rows: one small query per method. */
export class UserRepository {
  constructor(private readonly database: Database) {}

  findMany(manager: EntityManager, ids: string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return manager.findBy(UserRecord, { id: In(ids) });
  }

  find(manager: EntityManager, id: string): Promise<UserRecord | null> {
    return manager.findOneBy(UserRecord, { id });
  }

  /** Inserts the user's row unless it exists; concurrent callers both succeed. */
  async ensure(manager: EntityManager, id: string, now: Date): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(UserRecord)
      .values({ id, twoFactorEnabled: false, failedAttemptsInRow: 0, createdAt: now })
      .orIgnore()
      .execute();
  }

  /** The user's row, locked for the rest of the transaction (created first if missing). */
  async lock(manager: EntityManager, id: string, now: Date): Promise<UserRecord> {
    const query = () => this.database.lockForUpdate(manager.createQueryBuilder(UserRecord, 'user').where('user.id = :id', { id }));
    // Lock first, insert only when missing: INSERT IGNORE on an existing row takes a
    // shared lock, and two of those upgrading to exclusive would deadlock.
    const existing = await query().getOne();
    if (existing) return existing;
    await this.ensure(manager, id, now);
    return query().getOneOrFail();
  }

  async update(manager: EntityManager, id: string, changes: Partial<UserRecord>): Promise<void> {
    await manager.update(UserRecord, { id }, changes);
  }

  /**
   * Records a TOTP step as used, only if it is later than every step used before.
   * One conditional UPDATE: of two requests racing with the same code, one wins.
   */
  async advanceTotpStep(manager: EntityManager, id: string, step: number): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(UserRecord)
      .set({ lastTotpStep: step })
      .where('id = :id', { id })
      .andWhere('(last_totp_step IS NULL OR last_totp_step < :step)', { step })
      .execute();
    return (result.affected ?? 0) === 1;
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
