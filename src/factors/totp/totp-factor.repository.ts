import type { EntityManager } from 'typeorm';
import { TotpFactorRecord } from './totp-factor.entity';

/** Confirmed TOTP authenticators: at most one a user. */
export class TotpFactorRepository {
  find(manager: EntityManager, userId: string): Promise<TotpFactorRecord | null> {
    return manager.findOneBy(TotpFactorRecord, { userId });
  }

  async save(manager: EntityManager, factor: TotpFactorRecord): Promise<void> {
    await manager.upsert(TotpFactorRecord, factor, ['userId']);
  }

  count(manager: EntityManager, userId: string): Promise<number> {
    return manager.countBy(TotpFactorRecord, { userId });
  }

  async delete(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(TotpFactorRecord, { userId })).affected ?? 0) > 0;
  }

  async touch(manager: EntityManager, userId: string, now: Date): Promise<void> {
    await manager.update(TotpFactorRecord, { userId }, { lastUsedAt: now });
  }
}
