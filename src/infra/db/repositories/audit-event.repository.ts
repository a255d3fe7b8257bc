import type { EntityManager } from 'typeorm';
import type { Database } from '../database';
import { AuditEventRecord } from '../entities';
import { sqlTime } from '../raw-values';

export interface AuditPageQuery {
  userId?: string;
  organizationId?: string;
  beforeId?: string;
  /** Only events with this id or a later one. */
  fromId?: string;
  limit: number;
}

export class AuditEventRepository {
  constructor(private readonly database: Database) {}

  /** Returns the new event's id. Plain SQL in a transaction: every change and every answer checked writes one (ADR 0005). */
  async insert(manager: EntityManager, event: Omit<AuditEventRecord, 'id'>): Promise<string> {
    if (!manager.queryRunner) {
      const result = await manager.insert(AuditEventRecord, event);
      return String(result.identifiers[0].id);
    }
    return this.database.insert(
      manager,
      `INSERT INTO audit_events (action, user_id, organization_id, actor_id, reason, client_ip, occurred_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [
        event.action,
        event.userId,
        event.organizationId,
        event.actorId,
        event.reason,
        event.clientIp,
        sqlTime(event.occurredAt),
      ],
    );
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
