import type { EntityManager, EntityTarget, FindOptionsWhere } from 'typeorm';

interface OnePerUser {
  userId: string;
  lastUsedAt: Date | null;
}

/** A factor a user has at most one of (an authenticator app, a phone number), keyed by its user. */
export class OnePerUserRepository<T extends OnePerUser> {
  constructor(private readonly entity: EntityTarget<T>) {}

  find(manager: EntityManager, userId: string): Promise<T | null> {
    return manager.findOneBy(this.entity, this.of(userId));
  }

  async save(manager: EntityManager, factor: T): Promise<void> {
    await manager.upsert(this.entity, factor as never, ['userId']);
  }

  count(manager: EntityManager, userId: string): Promise<number> {
    return manager.countBy(this.entity, this.of(userId));
  }

  async delete(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(this.entity, this.of(userId))).affected ?? 0) > 0;
  }

  async touch(manager: EntityManager, userId: string, now: Date): Promise<void> {
    await manager.update(this.entity, this.of(userId), { lastUsedAt: now } as never);
  }

  private of(userId: string): FindOptionsWhere<T> {
    return { userId } as FindOptionsWhere<T>;
  }
}
