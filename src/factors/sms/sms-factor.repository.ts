import type { EntityManager } from 'typeorm';
import { SmsFactorRecord } from './sms-factor.entity';

/** Confirmed phone numbers: at most one a user. */
export class SmsFactorRepository {
  find(manager: EntityManager, userId: string): Promise<SmsFactorRecord | null> {
    return manager.findOneBy(SmsFactorRecord, { userId });
  }

  async save(manager: EntityManager, factor: SmsFactorRecord): Promise<void> {
    await manager.upsert(SmsFactorRecord, factor, ['userId']);
  }

  count(manager: EntityManager, userId: string): Promise<number> {
    return manager.countBy(SmsFactorRecord, { userId });
  }

  async delete(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(SmsFactorRecord, { userId })).affected ?? 0) > 0;
  }

  async touch(manager: EntityManager, userId: string, now: Date): Promise<void> {
    await manager.update(SmsFactorRecord, { userId }, { lastUsedAt: now });
  }
}
