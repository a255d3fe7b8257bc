import { randomBytes } from 'node:crypto';
import { type EntityManager, In, Like, Not } from 'typeorm';
import type { Database } from '../../infra/db/database';
import { sqlTime } from '../../infra/db/raw-values';
import { Table } from '../../infra/db/table';
import type { SsfEvent } from './ssf-events';
import { SsfQueuedEventRecord, SsfStreamRecord, SsfStreamSubjectRecord } from './ssf.entities';

const S = new Table(SsfStreamRecord);
const X = new Table(SsfStreamSubjectRecord);
const Q = new Table(SsfQueuedEventRecord);

/** A subject as streams store it: a user (iss_sub) or an organization (tenant). */
export const userSubject = (userId: string) => `user:${userId}`;
export const tenantSubject = (organizationId: string) => `tenant:${organizationId}`;

/** A queued event's random id (the SET's `jti` is it and its row's id). */
export const newEventId = () => randomBytes(16).toString('base64url');

/** Stored space separated between spaces, so one LIKE finds a type in it on both databases. */
export const storedEvents = (types: readonly string[]) => ` ${types.join(' ')} `;
export const eventsOf = (stored: string) => stored.trim().split(' ').filter(Boolean);

/** Streams, their subjects, and their queued events: every statement the transmitter runs. */
export class SsfRepository {
  constructor(private readonly database: Database) {}

  /**
   * Queues an event for every stream that takes it (not disabled, asked for its
   * type, and has its subject added or asked for all), inside the change's
   * transaction: one INSERT … SELECT, sent with the COMMIT.
   */
  async queueEvent(manager: EntityManager, event: SsfEvent, now: Date): Promise<void> {
    const subjects = [userSubject(event.userId), tenantSubject(event.organizationId ?? '')];
    await this.database.queue(manager, {
      sql: `INSERT INTO ${Q.name} (${Q.columns('streamId', 'eventId', 'eventType', 'userId', 'organizationId', 'claims', 'createdAt', 'dueAt', 'attempts')})
            SELECT s.${S.column('id')}, ?, ?, ?, ?, ?, ?, ?, 0 FROM ${S.name} s
             WHERE s.${S.column('status')} <> 'disabled' AND s.${S.column('eventsRequested')} LIKE ?
               AND (s.${S.column('allSubjects')} = 1 OR EXISTS (
                    SELECT 1 FROM ${X.name} x WHERE x.${X.column('streamId')} = s.${S.column('id')} AND x.${X.column('subject')} IN (?, ?)))`,
      parameters: [
        newEventId(),
        event.type,
        event.userId,
        event.organizationId,
        JSON.stringify(event.claims),
        sqlTime(now),
        sqlTime(now),
        `% ${event.type} %`,
        ...subjects,
      ],
    });
  }

  /** A verification event for one stream (SSF 1.0 §8.1.4), whatever its subjects. */
  async queueVerification(manager: EntityManager, streamId: string, state: string | undefined, now: Date) {
    await manager.insert(SsfQueuedEventRecord, {
      streamId,
      eventId: newEventId(),
      eventType: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
      userId: null,
      organizationId: null,
      claims: JSON.stringify(state === undefined ? {} : { state }),
      createdAt: now,
      dueAt: now,
      firstAttemptAt: null,
      attempts: 0,
      lastError: null,
    });
  }

  /** Whether any stream (not disabled) asked for this type: the writer skips reading organizations otherwise. */
  anyStreamTakes(manager: EntityManager, type: string): Promise<boolean> {
    return manager.exists(SsfStreamRecord, {
      where: { status: Not('disabled' as const), eventsRequested: Like(`% ${type} %`) },
    });
  }

  find(manager: EntityManager, id: string): Promise<SsfStreamRecord | null> {
    return manager.findOneBy(SsfStreamRecord, { id });
  }

  list(manager: EntityManager): Promise<SsfStreamRecord[]> {
    return manager.find(SsfStreamRecord, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  count(manager: EntityManager): Promise<number> {
    return manager.count(SsfStreamRecord);
  }

  async save(manager: EntityManager, stream: SsfStreamRecord): Promise<void> {
    await manager.save(SsfStreamRecord, stream);
  }

  /** A stream and everything of it. */
  async delete(manager: EntityManager, id: string): Promise<boolean> {
    await manager.delete(SsfStreamSubjectRecord, { streamId: id });
    await manager.delete(SsfQueuedEventRecord, { streamId: id });
    return ((await manager.delete(SsfStreamRecord, { id })).affected ?? 0) > 0;
  }

  /** A disabled stream drops what it held. */
  async dropQueued(manager: EntityManager, streamId: string): Promise<void> {
    await manager.delete(SsfQueuedEventRecord, { streamId });
  }

  async addSubject(manager: EntityManager, streamId: string, subject: string): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(SsfStreamSubjectRecord)
      .values({ streamId, subject })
      .orIgnore()
      .execute();
  }

  async removeSubject(manager: EntityManager, streamId: string, subject: string): Promise<boolean> {
    return ((await manager.delete(SsfStreamSubjectRecord, { streamId, subject })).affected ?? 0) > 0;
  }

  countSubjects(manager: EntityManager, streamId: string): Promise<number> {
    return manager.countBy(SsfStreamSubjectRecord, { streamId });
  }

  /** A poll: the stream's oldest events (one more than asked, to say whether more are available). */
  oldest(manager: EntityManager, streamId: string, limit: number): Promise<SsfQueuedEventRecord[]> {
    return manager.find(SsfQueuedEventRecord, { where: { streamId }, order: { id: 'ASC' }, take: limit });
  }

  /** Acknowledged (or reported in error) by a poll: gone. */
  async acknowledge(manager: EntityManager, streamId: string, rows: { id: string; eventId: string }[]) {
    for (const row of rows) await manager.delete(SsfQueuedEventRecord, { streamId, id: row.id, eventId: row.eventId });
  }

  /** The enabled push streams (at most LIMITS.ssfMaxStreams). */
  pushStreams(manager: EntityManager): Promise<SsfStreamRecord[]> {
    return manager.find(SsfStreamRecord, { where: { status: 'enabled', deliveryMethod: 'push' } });
  }

  /**
   * Claims a push stream's due events until `leaseEnd`, in the caller's
   * transaction (rows another instance holds are passed over).
   */
  async claimDue(
    manager: EntityManager,
    streamId: string,
    now: Date,
    leaseEnd: Date,
    limit: number,
  ): Promise<SsfQueuedEventRecord[]> {
    const query = manager
      .createQueryBuilder(SsfQueuedEventRecord, 'queued')
      .where('queued.streamId = :streamId AND queued.dueAt <= :now', { streamId, now })
      .orderBy('queued.id', 'ASC')
      .take(limit);
    const rows = await (
      this.database.isMysql ? query.setLock('pessimistic_write').setOnLocked('skip_locked') : query
    ).getMany();
    if (rows.length === 0) return rows;
    await manager.update(SsfQueuedEventRecord, { id: In(rows.map((row) => row.id)) }, { dueAt: leaseEnd });
    return rows.map((row) => Object.assign(row, { dueAt: leaseEnd }));
  }

  /** Delivered (or given up): gone, unless another claim took it since (its lease ended). */
  async deliveredOrDropped(manager: EntityManager, row: SsfQueuedEventRecord): Promise<void> {
    await manager.delete(SsfQueuedEventRecord, { id: row.id, dueAt: row.dueAt });
  }

  /** A failed attempt: due again at `next`. */
  async retryAt(manager: EntityManager, row: SsfQueuedEventRecord, next: Date, firstAttemptAt: Date, error: string) {
    await manager.update(
      SsfQueuedEventRecord,
      { id: row.id, dueAt: row.dueAt },
      { dueAt: next, attempts: row.attempts + 1, firstAttemptAt, lastError: error.slice(0, 255) },
    );
  }
}
