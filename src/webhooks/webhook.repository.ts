import type { EntityManager } from 'typeorm';
import type { Database } from '../infra/db/database';
import { rawDate, rawNumber, sqlTime } from '../infra/db/raw-values';
import { LIMITS } from '../limits';
import { WebhookDeliveryRecord, WebhookEndpointRecord, WebhookEventRecord } from './webhook.entities';

/** The lock row held while an endpoint is created (webhook_locks). */
const ENDPOINTS_LOCK = 'endpoints';

export type DeliveryState = 'PENDING' | 'DELIVERED' | 'FAILED';

/**
 * What one round may claim: `total` deliveries at most, and of each endpoint no
 * more than `perEndpoint` less those of it claimed here already, in flight or
 * waiting for a slot (`busy`: endpoint id -> delivery ids). An endpoint with no
 * room left is not looked at.
 */
export interface ClaimRoom {
  total: number;
  perEndpoint: number;
  busy: ReadonlyMap<string, readonly string[]>;
}

/** A delivery a worker claimed, with what sending it needs. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  /** Attempts of the series, this one included. */
  attempts: number;
  seriesStartedAt: Date;
  webhookId: string;
  payload: string;
  /** Null when the endpoint is gone. */
  endpoint: {
    id: string;
    url: string;
    enabled: boolean;
    secretCiphertext: string;
    previousSecretCiphertext: string | null;
    previousSecretExpiresAt: Date | null;
  } | null;
}

/** A delivery as the admin API lists it. */
export interface DeliveryRow {
  id: string;
  endpointId: string;
  webhookId: string;
  eventType: string;
  state: DeliveryState;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/**
 * The webhook tables: endpoints, the outbox (events) and the delivery queue.
 * Plain SQL only where MySQL and SQLite differ (claiming with SKIP LOCKED, batched
 * deletes), guarded by the database's kind; everything else through TypeORM,
 * which converts times for both.
 */
export class WebhookRepository {
  /** The enabled endpoints, as last read, and until when they may be reused (docs/adr/0008-webhook-outbox.md). */
  private enabledEndpoints: { until: number; endpoints: { id: string; eventTypes: string }[] } | null = null;
  /** Every endpoint's id (enabled or not), as last read, for claiming per endpoint. */
  private endpointIds: { until: number; ids: string[] } | null = null;

  constructor(
    private readonly database: Database,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- endpoints

  listEndpoints(manager: EntityManager): Promise<WebhookEndpointRecord[]> {
    return manager.find(WebhookEndpointRecord, { order: { createdAt: 'ASC', id: 'ASC' } });
  }

  findEndpoint(manager: EntityManager, id: string): Promise<WebhookEndpointRecord | null> {
    return manager.findOneBy(WebhookEndpointRecord, { id });
  }

  /** The endpoint, its row locked until the transaction ends: changes to one endpoint run one at a time. */
  findEndpointForUpdate(manager: EntityManager, id: string): Promise<WebhookEndpointRecord | null> {
    return this.database
      .lockForUpdate(manager.createQueryBuilder(WebhookEndpointRecord, 'endpoint').where('endpoint.id = :id', { id }))
      .getOne();
  }

  /**
   * Counts the endpoints under the `endpoints` lock row, held until the
   * transaction ends: creates on every instance count and insert one at a time.
   * The upsert locks the row whether or not the migration's copy of it is still
   * there. The embedded SQLite file runs one transaction at a time already.
   */
  async countEndpointsLocked(manager: EntityManager): Promise<number> {
    if (this.database.isMysql) {
      await manager.query('INSERT INTO webhook_locks (name) VALUES (?) ON DUPLICATE KEY UPDATE name = name', [
        ENDPOINTS_LOCK,
      ]);
    }
    return manager.count(WebhookEndpointRecord);
  }

  async insertEndpoint(manager: EntityManager, endpoint: WebhookEndpointRecord): Promise<void> {
    await manager.insert(WebhookEndpointRecord, endpoint);
    this.endpointsChanged();
  }

  async updateEndpoint(manager: EntityManager, id: string, changes: Partial<WebhookEndpointRecord>): Promise<void> {
    await manager.update(WebhookEndpointRecord, { id }, changes);
    this.endpointsChanged();
  }

  /** The endpoint and its deliveries (sent or not); events no endpoint needs any more go with the retention purge. */
  async deleteEndpoint(manager: EntityManager, id: string): Promise<boolean> {
    await manager.delete(WebhookDeliveryRecord, { endpointId: id });
    const result = await manager.delete(WebhookEndpointRecord, { id });
    this.endpointsChanged();
    return (result.affected ?? 0) > 0;
  }

  /**
   * The ids of the enabled endpoints that take events of this type (an empty list
   * takes every type). Every audited change asks, so the list is reused for
   * LIMITS.webhookSubscribersCacheMs; `endpointsChanged` clears it on this
   * instance, and insertDeliveries skips an endpoint disabled meanwhile.
   */
  async subscribers(manager: EntityManager, type: string): Promise<string[]> {
    let cached = this.enabledEndpoints;
    if (!cached || cached.until <= this.now()) {
      const until = this.now() + LIMITS.webhookSubscribersCacheMs;
      const endpoints = await manager.find(WebhookEndpointRecord, {
        select: { id: true, eventTypes: true },
        where: { enabled: true },
      });
      cached = { until, endpoints: endpoints.map(({ id, eventTypes }) => ({ id, eventTypes })) };
      this.enabledEndpoints = cached;
    }
    return cached.endpoints
      .filter((endpoint) => endpoint.eventTypes === '' || endpoint.eventTypes.split(',').includes(type))
      .map((endpoint) => endpoint.id);
  }

  /**
   * An endpoint was added, changed or deleted here: the next event reads the
   * list afresh (called by each change, and again once its transaction ended, so
   * a list read inside it is not kept).
   */
  endpointsChanged(): void {
    this.enabledEndpoints = null;
    this.endpointIds = null;
  }

  // ---- the outbox

  /**
   * The event and one PENDING delivery, due now, per endpoint of these that is
   * still enabled (the list may be a second old): queued with the change's
   * COMMIT (ADR 0013), the deliveries naming the event by the id just generated.
   */
  async insertEvent(
    manager: EntityManager,
    event: Omit<WebhookEventRecord, 'id'>,
    endpointIds: string[],
    now: Date,
  ): Promise<void> {
    const time = sqlTime(now);
    await this.database.queue(manager, {
      sql: 'INSERT INTO webhook_events (webhook_id, type, payload, created_at) VALUES (?, ?, ?, ?)',
      parameters: [event.webhookId, event.type, event.payload, sqlTime(event.createdAt)],
    });
    await this.database.queue(manager, {
      sql: `INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, series_started_at, created_at)
       SELECT ${this.database.lastInsertId}, id, 'PENDING', 0, ?, ?, ? FROM webhook_endpoints
        WHERE enabled = 1 AND id IN (${endpointIds.map(() => '?').join(', ')})`,
      parameters: [time, time, time, ...endpointIds],
    });
  }

  // ---- the worker

  /**
   * Whether any delivery is due that `room` lets this instance claim: one cheap
   * read (an index probe per endpoint), so an idle worker opens no transaction.
   */
  async anyDue(now: Date, room: ClaimRoom): Promise<boolean> {
    return this.database.run(async (manager) => {
      const found = await this.dueRows(manager, now, room, await this.knownEndpoints(manager), true);
      return found.length > 0;
    });
  }

  /**
   * Inside a short transaction: the due deliveries `room` allows, oldest first
   * per endpoint, locked with `FOR UPDATE SKIP LOCKED` on MySQL (rows another
   * instance is claiming are skipped, not waited for), then claimed: attempts
   * + 1, due again only when the lease ends, marked with this claim's token.
   * Once committed, no other instance sends them before `leaseUntil`.
   */
  async claim(
    manager: EntityManager,
    now: Date,
    room: ClaimRoom,
    token: string,
    leaseUntil: Date,
  ): Promise<ClaimedDelivery[]> {
    const due = await this.dueRows(manager, now, room, await this.knownEndpoints(manager), false);
    // Each endpoint's rows come oldest first; an endpoint gets the room it has, the round `total` at most.
    const taken = new Map<string, number>();
    const ids: string[] = [];
    for (const row of due) {
      const endpointId = String(row.endpoint_id);
      const count = taken.get(endpointId) ?? 0;
      if (ids.length >= room.total || count >= slotsOf(room, endpointId)) continue;
      taken.set(endpointId, count + 1);
      ids.push(String(row.id));
    }
    if (ids.length === 0) return [];
    await manager
      .createQueryBuilder()
      .update(WebhookDeliveryRecord)
      .set({ attempts: () => 'attempts + 1', nextAttemptAt: leaseUntil, leaseToken: token })
      .whereInIds(ids)
      .execute();
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT d.id, d.endpoint_id AS delivery_endpoint_id, d.attempts, d.series_started_at, e.webhook_id, e.payload,
              p.id AS endpoint_id, p.url, p.enabled, p.secret_ciphertext, p.previous_secret_ciphertext, p.previous_secret_expires_at
         FROM webhook_deliveries d
         JOIN webhook_events e ON e.id = d.event_id
         LEFT JOIN webhook_endpoints p ON p.id = d.endpoint_id
        WHERE d.id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    return rows.map((row) => ({
      id: String(row.id),
      endpointId: String(row.delivery_endpoint_id),
      attempts: rawNumber(row.attempts),
      seriesStartedAt: rawDate(row.series_started_at)!,
      webhookId: String(row.webhook_id),
      payload: String(row.payload),
      endpoint:
        row.endpoint_id === null || row.endpoint_id === undefined
          ? null
          : {
              id: String(row.endpoint_id),
              url: String(row.url),
              enabled: row.enabled === true || Number(row.enabled) === 1,
              secretCiphertext: String(row.secret_ciphertext),
              previousSecretCiphertext: (row.previous_secret_ciphertext as string | null) ?? null,
              previousSecretExpiresAt: rawDate(row.previous_secret_expires_at),
            },
    }));
  }

  /** Every endpoint's id, reused for LIMITS.webhookSubscribersCacheMs like the subscribers (claiming needs no fresher list: see dueRows). */
  private async knownEndpoints(manager: EntityManager): Promise<string[]> {
    let cached = this.endpointIds;
    if (!cached || cached.until <= this.now()) {
      const until = this.now() + LIMITS.webhookSubscribersCacheMs;
      const rows = await manager.find(WebhookEndpointRecord, { select: { id: true }, order: { id: 'ASC' } });
      cached = { until, ids: rows.map((row) => row.id) };
      this.endpointIds = cached;
    }
    return cached.ids;
  }

  /**
   * The due deliveries `room` allows: per known endpoint with room left, its
   * oldest due ones (an index range of that endpoint only, so one with a long
   * backlog costs the others nothing); and, for endpoints not in `known` (made
   * on another instance within the last second, or gone), one more query that
   * leaves the known ones out. One statement on MySQL, one per part on SQLite.
   * `probe`: one row per part, nothing locked (anyDue).
   */
  private async dueRows(
    manager: EntityManager,
    now: Date,
    room: ClaimRoom,
    known: string[],
    probe: boolean,
  ): Promise<{ id: unknown; endpoint_id: unknown }[]> {
    const lock = !probe && this.database.isMysql ? ' FOR UPDATE SKIP LOCKED' : '';
    const limit = (count: number) => Math.max(1, Math.floor(probe ? 1 : Math.min(count, room.total)));
    const list = (values: readonly unknown[]) => values.map(() => '?').join(', ');
    // Never what this instance holds (sending, or waiting for a slot), even if its lease lapsed meanwhile.
    const notMine = (ids: readonly string[]) => (ids.length > 0 ? ` AND id NOT IN (${list(ids)})` : '');
    const time = sqlTime(now);
    const parts: { sql: string; params: unknown[] }[] = [];
    const knownSet = new Set(known);
    for (const endpointId of known) {
      const free = slotsOf(room, endpointId);
      if (free <= 0) continue;
      const mine = room.busy.get(endpointId) ?? [];
      parts.push({
        sql: `SELECT id, endpoint_id FROM webhook_deliveries WHERE state = 'PENDING' AND endpoint_id = ? AND next_attempt_at <= ?${notMine(mine)} ORDER BY next_attempt_at LIMIT ${limit(free)}${lock}`,
        params: [endpointId, time, ...mine],
      });
    }
    // The rest: endpoints this instance does not know yet or any more, those with no free slot left out;
    // one endpoint's slots' worth a round (rows locked here and not taken wait for the commit).
    const full = [...room.busy.keys()].filter((id) => !knownSet.has(id) && slotsOf(room, id) <= 0);
    const skip = [...known, ...full];
    const mine = [...room.busy].filter(([id]) => !knownSet.has(id)).flatMap(([, ids]) => ids);
    parts.push({
      sql: `SELECT id, endpoint_id FROM webhook_deliveries WHERE state = 'PENDING'${skip.length > 0 ? ` AND endpoint_id NOT IN (${list(skip)})` : ''} AND next_attempt_at <= ?${notMine(mine)} ORDER BY endpoint_id, next_attempt_at LIMIT ${limit(room.perEndpoint)}${lock}`,
      params: [...skip, time, ...mine],
    });
    if (this.database.isMysql) {
      return manager.query(
        parts.map((part) => `(${part.sql})`).join(' UNION ALL '),
        parts.flatMap((part) => part.params),
      );
    }
    const rows: { id: unknown; endpoint_id: unknown }[] = [];
    for (const part of parts) rows.push(...(await manager.query(part.sql, part.params)));
    return rows;
  }

  /** A 2xx: recorded even if the delivery was failed meanwhile (its endpoint disabled): it did arrive. */
  delivered(manager: EntityManager, id: string, token: string, status: number, now: Date): Promise<boolean> {
    return this.settle(manager, id, token, false, {
      state: 'DELIVERED',
      lastStatus: status,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: now,
    });
  }

  /** A failed attempt, to be tried again at `nextAttemptAt`; unless the delivery was failed meanwhile. */
  retryAt(
    manager: EntityManager,
    id: string,
    token: string,
    status: number | null,
    error: string,
    nextAttemptAt: Date,
  ): Promise<boolean> {
    return this.settle(manager, id, token, true, { lastStatus: status, lastError: error, nextAttemptAt });
  }

  /** Given up: FAILED. */
  failed(manager: EntityManager, id: string, token: string, status: number | null, error: string): Promise<boolean> {
    return this.settle(manager, id, token, true, {
      state: 'FAILED',
      lastStatus: status,
      lastError: error,
      nextAttemptAt: null,
    });
  }

  /** Claims given back unsent (the instance is stopping): due again now, the attempt not counted. */
  async release(manager: EntityManager, ids: string[], token: string, now: Date): Promise<void> {
    if (ids.length === 0) return;
    await manager
      .createQueryBuilder()
      .update(WebhookDeliveryRecord)
      .set({ attempts: () => 'attempts - 1', nextAttemptAt: now, leaseToken: null })
      .whereInIds(ids)
      .andWhere('lease_token = :token', { token })
      .andWhere("state = 'PENDING'")
      .execute();
  }

  /** Every delivery of the endpoint still PENDING (claimed or not) gives up: the endpoint is disabled. */
  async failPending(manager: EntityManager, endpointId: string, error: string): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(WebhookDeliveryRecord)
      .set({ state: 'FAILED', lastError: error, nextAttemptAt: null })
      .where('endpoint_id = :endpointId', { endpointId })
      .andWhere("state = 'PENDING'")
      .execute();
  }

  /** An outcome counts only under the claim that made the attempt (a lapsed claim's late answer changes nothing). */
  private async settle(
    manager: EntityManager,
    id: string,
    token: string,
    onlyPending: boolean,
    changes: Partial<WebhookDeliveryRecord>,
  ): Promise<boolean> {
    const query = manager
      .createQueryBuilder()
      .update(WebhookDeliveryRecord)
      .set(changes)
      .where('id = :id', { id })
      .andWhere('lease_token = :token', { token });
    if (onlyPending) query.andWhere("state = 'PENDING'");
    const result = await query.execute();
    return (result.affected ?? 0) > 0;
  }

  // ---- the admin API

  /** Newest first: a keyset on the id, within one endpoint (and state). */
  async page(
    manager: EntityManager,
    query: { endpointId: string; state?: DeliveryState; beforeId?: string; limit: number },
  ): Promise<DeliveryRow[]> {
    const builder = this.deliveries(manager).where('d.endpointId = :endpointId', { endpointId: query.endpointId });
    if (query.state !== undefined) builder.andWhere('d.state = :state', { state: query.state });
    if (query.beforeId !== undefined) builder.andWhere('d.id < :beforeId', { beforeId: query.beforeId });
    const rows = await builder.orderBy('d.id', 'DESC').limit(query.limit).getRawMany<Record<string, unknown>>();
    return rows.map(deliveryRow);
  }

  async findDelivery(manager: EntityManager, id: string): Promise<DeliveryRow | null> {
    const [row] = await this.deliveries(manager).where('d.id = :id', { id }).getRawMany<Record<string, unknown>>();
    return row ? deliveryRow(row) : null;
  }

  /** Deliveries with their event's id and type, as the admin API shows them. */
  private deliveries(manager: EntityManager) {
    return manager
      .createQueryBuilder(WebhookDeliveryRecord, 'd')
      .innerJoin(WebhookEventRecord, 'e', 'e.id = d.eventId')
      .select([
        'd.id AS id',
        'd.endpointId AS endpoint_id',
        'd.state AS state',
        'd.attempts AS attempts',
        'd.lastStatus AS last_status',
        'd.lastError AS last_error',
        'd.nextAttemptAt AS next_attempt_at',
        'd.createdAt AS created_at',
        'd.deliveredAt AS delivered_at',
        'e.webhookId AS webhook_id',
        'e.type AS type',
      ]);
  }

  /** A FAILED delivery queued again: a new series, due now, with the same event (and webhook-id). */
  async requeue(manager: EntityManager, id: string, now: Date): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(WebhookDeliveryRecord)
      .set({
        state: 'PENDING',
        attempts: 0,
        lastStatus: null,
        lastError: null,
        nextAttemptAt: now,
        leaseToken: null,
        seriesStartedAt: now,
        deliveredAt: null,
      })
      .where('id = :id', { id })
      .andWhere("state = 'FAILED'")
      .execute();
    return (result.affected ?? 0) > 0;
  }

  // ---- operations

  /** When the oldest delivery still PENDING was written (its event's time); null when none is. */
  async oldestPending(): Promise<Date | null> {
    const row = await this.database.run((manager) =>
      manager
        .createQueryBuilder(WebhookDeliveryRecord, 'd')
        .select('MIN(d.createdAt)', 'oldest')
        .where("d.state = 'PENDING'")
        .getRawOne<{ oldest: unknown }>(),
    );
    return rawDate(row?.oldest);
  }

  /**
   * One batch of the retention purge, in its own short transaction: delivered and
   * failed deliveries written before `cutoff`, then events before it that no
   * delivery needs. Returns the rows deleted (less than `batch` of each: done).
   */
  async purgeBatch(cutoff: Date, batch: number): Promise<{ deliveries: number; events: number }> {
    const size = Math.max(1, Math.floor(batch));
    const time = sqlTime(cutoff);
    const deliveries = this.database.isMysql
      ? `DELETE FROM webhook_deliveries WHERE state IN ('DELIVERED', 'FAILED') AND created_at < ? LIMIT ${size}`
      : `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE state IN ('DELIVERED', 'FAILED') AND created_at < ? LIMIT ${size})`;
    const unneeded = 'NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)';
    const events = this.database.isMysql
      ? `DELETE FROM webhook_events WHERE created_at < ? AND ${unneeded} LIMIT ${size}`
      : `DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE created_at < ? AND ${unneeded} LIMIT ${size})`;
    return this.database.transaction(async (manager) => {
      const runner = manager.queryRunner!;
      const deleted = await runner.query(deliveries, [time], true);
      const purged = await runner.query(events, [time], true);
      return { deliveries: deleted.affected ?? 0, events: purged.affected ?? 0 };
    });
  }
}

/** How many more of the endpoint's deliveries this round may claim. */
function slotsOf(room: ClaimRoom, endpointId: string): number {
  return room.perEndpoint - (room.busy.get(endpointId)?.length ?? 0);
}

function deliveryRow(row: Record<string, unknown>): DeliveryRow {
  return {
    id: String(row.id),
    endpointId: String(row.endpoint_id),
    webhookId: String(row.webhook_id),
    eventType: String(row.type),
    state: String(row.state) as DeliveryState,
    attempts: rawNumber(row.attempts),
    lastStatus: row.last_status === null || row.last_status === undefined ? null : Number(row.last_status),
    lastError: (row.last_error as string | null) ?? null,
    nextAttemptAt: rawDate(row.next_attempt_at),
    createdAt: rawDate(row.created_at)!,
    deliveredAt: rawDate(row.delivered_at),
  };
}
