import { In, IsNull, type EntityManager } from 'typeorm';
import { RecoveryCodeRecord } from './recovery-code.entity';

/** A user's current set of recovery codes. */
export class RecoveryCodeRepository {
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

  /**
   * Marks an unused code (found by any of its keyed hashes) as used. One
   * conditional UPDATE: of two requests racing with the same code, one wins.
   */
  async use(manager: EntityManager, userId: string, hashes: string[], now: Date): Promise<boolean> {
    const result = await manager.update(
      RecoveryCodeRecord,
      { userId, codeHash: In(hashes), usedAt: IsNull() },
      { usedAt: now },
    );
    return (result.affected ?? 0) === 1;
  }
}
