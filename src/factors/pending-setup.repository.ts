import type { EntityManager } from 'typeorm';
import type { EnrolledMethod } from '../users/two-factor-method';
import { PendingSetupRecord } from './pending-setup.entity';

/** Factors being set up: one per user and method, replaced when started again. */
export class PendingSetupRepository {
  find(manager: EntityManager, userId: string, method: EnrolledMethod): Promise<PendingSetupRecord | null> {
    return manager.findOneBy(PendingSetupRecord, { userId, method });
  }

  async save(manager: EntityManager, setup: PendingSetupRecord): Promise<void> {
    await manager.upsert(PendingSetupRecord, setup, ['userId', 'method']);
  }

  /** Removes the pending setup; true only for the one caller that removed it. */
  async delete(manager: EntityManager, userId: string, method: EnrolledMethod): Promise<boolean> {
    return ((await manager.delete(PendingSetupRecord, { userId, method })).affected ?? 0) > 0;
  }

  async deleteAllOf(manager: EntityManager, userId: string): Promise<void> {
    await manager.delete(PendingSetupRecord, { userId });
  }
}
