import type { EntityManager } from 'typeorm';
import { AuditEventRecord } from '../entities';

export interface AuditPageQuery {
  userId?: string;
  organizationId?: string;
  beforeId?: string;
  /** Only events with this id or a later one. */
  fromId?: string;
  limit: number;
}

export class AuditEventRepository {
  /** Returns the new event's id. */
  async insert(manager: EntityManager, event: Omit<AuditEventRecord, 'id'>): Promise<string> {
    const result = await manager.insert(AuditEventRecord, event);
    return String(result.identifiers[0].id);
  }

  /** Newest first; keyset on the id. */
  page(manager: EntityManager, query: AuditPageQuery): Promise<AuditEventRecord[]> {
    const builder = manager.createQueryBuilder(AuditEventRecord, 'event').where('1 = 1');
    if (query.userId !== undefined) builder.andWhere('event.userId = :userId', { userId: query.userId });
    if (query.organizationId !== undefined) {
      builder.andWhere('event.organizationId = :organizationId', { organizationId: query.organizationId });
    }
    if (query.beforeId !== undefined) builder.andWhere('event.id < :beforeId', { beforeId: query.beforeId });
    if (query.fromId !== undefined) builder.andWhere('event.id >= :fromId', { fromId: query.fromId });
    return builder.orderBy('event.id', 'DESC').limit(query.limit).getMany();
  }

  /** Erasing a user: events stay, with only the ids. */
  async anonymizeUser(manager: EntityManager, userId: string): Promise<void> {
    await manager.update(AuditEventRecord, { userId }, { reason: null, clientIp: null });
    await manager.update(AuditEventRecord, { actorId: userId }, { clientIp: null });
  }
}
