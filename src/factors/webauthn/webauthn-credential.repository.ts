import type { EntityManager } from 'typeorm';
import { WebAuthnCredentialRecord } from './webauthn-credential.entity';

/** A user's security keys and passkeys. */
export class WebAuthnCredentialRepository {
  /** Oldest first. */
  list(manager: EntityManager, userId: string): Promise<WebAuthnCredentialRecord[]> {
    return manager.find(WebAuthnCredentialRecord, { where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  listMany(manager: EntityManager, userIds: readonly string[]): Promise<WebAuthnCredentialRecord[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return manager
      .createQueryBuilder(WebAuthnCredentialRecord, 'credential')
      .where('credential.userId IN (:...userIds)', { userIds })
      .orderBy('credential.createdAt', 'ASC')
      .addOrderBy('credential.id', 'ASC')
      .getMany();
  }

  find(manager: EntityManager, userId: string, id: string): Promise<WebAuthnCredentialRecord | null> {
    return manager.findOneBy(WebAuthnCredentialRecord, { userId, id });
  }

  /** Whether any user has this credential id. */
  async exists(manager: EntityManager, id: string): Promise<boolean> {
    return (await manager.countBy(WebAuthnCredentialRecord, { id })) > 0;
  }

  count(manager: EntityManager, userId: string): Promise<number> {
    return manager.countBy(WebAuthnCredentialRecord, { userId });
  }

  async insert(manager: EntityManager, credential: WebAuthnCredentialRecord): Promise<void> {
    await manager.insert(WebAuthnCredentialRecord, credential);
  }

  /**
   * Records a use, only if the counter is still the one the check read: of two
   * assertions racing with the same credential, one wins.
   */
  async recordUse(
    manager: EntityManager,
    id: string,
    expectedCount: number,
    signCount: number,
    now: Date,
  ): Promise<boolean> {
    const result = await manager.update(
      WebAuthnCredentialRecord,
      { id, signCount: expectedCount },
      { signCount, lastUsedAt: now },
    );
    return (result.affected ?? 0) === 1;
  }

  async rename(manager: EntityManager, userId: string, id: string, name: string): Promise<boolean> {
    return ((await manager.update(WebAuthnCredentialRecord, { userId, id }, { name })).affected ?? 0) === 1;
  }

  async delete(manager: EntityManager, userId: string, id: string): Promise<boolean> {
    return ((await manager.delete(WebAuthnCredentialRecord, { userId, id })).affected ?? 0) > 0;
  }

  async deleteAll(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(WebAuthnCredentialRecord, { userId })).affected ?? 0) > 0;
  }
}
