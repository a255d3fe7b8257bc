import { In, IsNull, type EntityManager } from 'typeorm';
import { PendingSetupRecord, RecoveryCodeRecord, SmsFactorRecord, TotpFactorRecord } from '../entities';
import type { PendingSetupMethod } from '../entities/pending-setup.entity';

export type FactorMethod = 'TOTP' | 'SMS';

/** Confirmed factors and pending setups. */
export class FactorRepository {
  findTotp(manager: EntityManager, userId: string): Promise<TotpFactorRecord | null> {
    return manager.findOneBy(TotpFactorRecord, { userId });
  }

  async saveTotp(manager: EntityManager, factor: TotpFactorRecord): Promise<void> {
    await manager.upsert(TotpFactorRecord, factor, ['userId']);
  }

  async deleteTotp(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(TotpFactorRecord, { userId })).affected ?? 0) > 0;
  }

  findSms(manager: EntityManager, userId: string): Promise<SmsFactorRecord | null> {
    return manager.findOneBy(SmsFactorRecord, { userId });
  }

  async saveSms(manager: EntityManager, factor: SmsFactorRecord): Promise<void> {
    await manager.upsert(SmsFactorRecord, factor, ['userId']);
  }

  async deleteSms(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(SmsFactorRecord, { userId })).affected ?? 0) > 0;
  }

  async has(manager: EntityManager, userId: string, method: FactorMethod): Promise<boolean> {
    return (await manager.countBy(method === 'TOTP' ? TotpFactorRecord : SmsFactorRecord, { userId })) > 0;
  }

  delete(manager: EntityManager, userId: string, method: FactorMethod): Promise<boolean> {
    return method === 'TOTP' ? this.deleteTotp(manager, userId) : this.deleteSms(manager, userId);
  }

  async touch(manager: EntityManager, method: FactorMethod, userId: string, now: Date): Promise<void> {
    await manager.update(method === 'TOTP' ? TotpFactorRecord : SmsFactorRecord, { userId }, { lastUsedAt: now });
  }

  findPending(manager: EntityManager, userId: string, method: PendingSetupMethod): Promise<PendingSetupRecord | null> {
    return manager.findOneBy(PendingSetupRecord, { userId, method });
  }

  async savePending(manager: EntityManager, setup: PendingSetupRecord): Promise<void> {
    await manager.upsert(PendingSetupRecord, setup, ['userId', 'method']);
  }

  /** Removes the pending setup; true only for the one caller that removed it. */
  async deletePending(manager: EntityManager, userId: string, method: PendingSetupMethod): Promise<boolean> {
    return ((await manager.delete(PendingSetupRecord, { userId, method })).affected ?? 0) > 0;
  }

  async deleteAllOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.delete(TotpFactorRecord, { userId });
    await manager.delete(SmsFactorRecord, { userId });
    await manager.delete(PendingSetupRecord, { userId });
    await manager.delete(RecoveryCodeRecord, { userId });
  }
}

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
