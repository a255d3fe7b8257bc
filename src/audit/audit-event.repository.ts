import type { EntityManager } from 'typeorm';
import type { Database } from '../infra/db/database';
import { sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import { AuditEventRecord } from './audit-event.entity';

const auditEvents = new Table(AuditEventRecord);
const INSERTED = ['action', 'userId', 'organizationId', 'actorId', 'reason', 'clientIp', 'occurredAt'] as const;

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

  /**
   * Inside the change's transaction: queued, so it goes with the COMMIT (ADR
   * 0013); every change and every answer checked writes one. Outside one, now.
   */
  async insert(manager: EntityManager, event: Omit<AuditEventRecord, 'id'>): Promise<void> {
    if (!manager.queryRunner) {
      await manager.insert(AuditEventRecord, event);
      return;
    }
    await this.database.queue(manager, {
      sql: `INSERT INTO ${auditEvents.name} (${auditEvents.columns(...INSERTED)}) VALUES (${INSERTED.map(() => '?').join(', ')})`,
      parameters: INSERTED.map((property) => (property === 'occurredAt' ? sqlTime(event.occurredAt) : event[property])),
    });
  }

  /** The same, sent now, for a change that needs the event's id (an organization's first event). */
  async insertReturningId(manager: EntityManager, event: Omit<AuditEventRecord, 'id'>): Promise<string> {
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
