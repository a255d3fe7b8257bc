import type { EntityManager } from 'typeorm';
import type { Database, Statement } from '../infra/db/database';
import { rawBoolean, rawDate, rawNumber, sqlTime } from '../infra/db/raw-values';
import { LIMITS } from '../limits';
import { WebhookDeliveryRecord, WebhookEndpointRecord, WebhookEventRecord } from './webhook.entities';

/** The lock row held while an endpoint is created (webhook_locks). */
const ENDPOINTS_LOCK = 'endpoints';

export type DeliveryState = 'PENDING' | 'DELIVERED' | 'FAILED';

/**
 * What one round may claim: `total` deliveries at most, and of each endpoint
 * `perEndpoint` (or what `limits` gives it) less those of it claimed here
 * already, in flight or waiting for a slot (`busy`: endpoint id -> event ids).
 * An endpoint with no room left gets no new claim; `lapsed` (endpoint id ->
 * event ids) are held here past their lease and are not claimed again by this
 * instance while it holds them.
 */
export interface ClaimRoom {
  total: number;
  perEndpoint: number;
  limits?: ReadonlyMap<string, number>;
  busy: ReadonlyMap<string, readonly string[]>;
  lapsed?: ReadonlyMap<string, readonly string[]>;
}

/** An endpoint as the worker sends to it. */
export interface SendingEndpoint {
  id: string;
  url: string;
  enabled: boolean;
  /** Comma separated; empty: every type. */
  eventTypes: string;
  secretCiphertext: string;
  previousSecretCiphertext: string | null;
  previousSecretExpiresAt: Date | null;
}

/**
 * A delivery is named by its event and endpoint (unique): a fan-out's rows are
 * claimed as they are inserted and never read back, so outcomes name them so.
 * `token` is the claim's: an outcome counts only under it.
 */
export interface ClaimKey {
  eventId: string;
  endpointId: string;
  token: string;
}

/** A delivery a worker claimed, with what sending it needs. */
export interface ClaimedDelivery extends ClaimKey {
  /** Attempts of the series, this one included. */
  attempts: number;
  seriesStartedAt: Date;
  /** When the claim lapses: another instance may claim it then. */
  leaseUntil: Date;
  webhookId: string;
  payload: string;
  /** As read in the round that claimed it; null when the endpoint is gone. */
  endpoint: SendingEndpoint | null;
}

/** What an attempt came to, recorded under its claim by the next round (or by stop). */
export type Outcome =
  | (ClaimKey & { kind: 'delivered'; status: number })
  | (ClaimKey & { kind: 'retried'; status: number | null; error: string; nextAttemptAt: Date })
  | (ClaimKey & { kind: 'failed'; status: number | null; error: string })
  /** Given back unsent (stopping, or its lease too near its end to start): due again, the attempt not counted. */
  | (ClaimKey & { kind: 'released' });

export type OutcomeKind = Outcome['kind'];

/** What a round did. */
export interface Round {
  claimed: ClaimedDelivery[];
  /** Events taken from the outbox: fanned out to the endpoints that take them, or dropped when none does any more. */
  fannedOut: number;
  /** Whether the outbox had as many events as the round took: more may wait. */
  moreToFanOut: boolean;
  /** Outcomes that counted (their claim was still theirs), by kind. */
  recorded: Record<OutcomeKind, number>;
  /** Every endpoint, as this round read it. */
  endpoints: SendingEndpoint[];
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
 * The webhook tables: endpoints, the outbox (one row per event) and the
 * deliveries the worker fans it out to (docs/adr/0019-outbox-one-row-per-event.md).
 * Plain SQL where MySQL and SQLite differ (claiming with SKIP LOCKED, batched
 * statements and deletes), guarded by the database's kind; the rest through
 * TypeORM, which converts times for both.
 */
export class WebhookRepository {
  /**
   * The event types some enabled endpoint took when a round last read the
   * endpoints, and until when the writer trusts that (docs/adr/0019-outbox-one-row-per-event.md).
   */
  private taken: { until: number; all: boolean; types: ReadonlySet<string> } | null = null;
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
   * An endpoint was added, changed or deleted here: the writer asks the database
   * again before it writes an event, and claiming reads the list afresh (called
   * by each change, and again once its transaction ended).
   */
  endpointsChanged(): void {
    this.taken = null;
    this.endpointIds = null;
  }

  // ---- the outbox

  /**
   * The event, one row whatever the number of endpoints, queued with the
   * change's COMMIT (ADR 0013). Written only while an enabled endpoint takes its
   * type: when this instance's worker saw one within
   * LIMITS.webhookSubscribersCacheMs, a plain INSERT; otherwise the INSERT
   * asks the database itself, in the same statement, so an endpoint made on
   * another instance a moment ago gets the event. A stale "yes" costs a row that
   * the fan-out drops; there is no stale "no".
   */
  async insertEvent(
    manager: EntityManager,
    event: Pick<WebhookEventRecord, 'webhookId' | 'type' | 'payload' | 'createdAt'>,
  ): Promise<void> {
    const values = [event.webhookId, event.type, event.payload, sqlTime(event.createdAt)];
    const columns = 'INSERT INTO webhook_events (webhook_id, type, payload, created_at)';
    if (this.takenRecently(event.type)) {
      await this.database.queue(manager, { sql: `${columns} VALUES (?, ?, ?, ?)`, parameters: values });
      return;
    }
    const takes = this.database.isMysql
      ? 'FIND_IN_SET(?, event_types) > 0'
      : "instr(',' || event_types || ',', ',' || ? || ',') > 0";
    await this.database.queue(manager, {
      sql: `${columns} SELECT ?, ?, ?, ?${this.database.isMysql ? ' FROM DUAL' : ''}
        WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1 AND (event_types = '' OR ${takes}))`,
      parameters: [...values, event.type],
    });
  }

  private takenRecently(type: string): boolean {
    const taken = this.taken;
    return taken !== null && taken.until > this.now() && (taken.all || taken.types.has(type));
  }

  /** What a round read of the endpoints: the types they take (for the writer) and their ids (for claiming). */
  private sawEndpoints(endpoints: SendingEndpoint[]): void {
    const until = this.now() + LIMITS.webhookSubscribersCacheMs;
    const enabled = endpoints.filter((endpoint) => endpoint.enabled);
    this.taken = {
      until,
      all: enabled.some((endpoint) => endpoint.eventTypes === ''),
      types: new Set(enabled.flatMap((endpoint) => endpoint.eventTypes.split(',')).filter(Boolean)),
    };
    this.endpointIds = { until, ids: endpoints.map((endpoint) => endpoint.id).sort() };
  }

  // ---- the worker

  /**
   * Whether a round would find anything: an event to fan out, or a due delivery
   * that `room` lets this instance claim. One cheap read (an index probe per
   * part), so an idle worker opens no transaction.
   */
  async anyDue(now: Date, room: ClaimRoom): Promise<boolean> {
    return this.database.run(async (manager) => {
      const known = await this.knownEndpoints(manager);
      const probes = [
        ...this.dueStatements(now, room, known, true),
        { sql: 'SELECT id, NULL AS endpoint_id FROM webhook_events WHERE fanned_out = 0 LIMIT 1', parameters: [] },
      ];
      if (this.database.isMysql) {
        const rows = await manager.query(
          probes.map((probe) => `(${probe.sql})`).join(' UNION ALL '),
          probes.flatMap((probe) => probe.parameters),
        );
        return rows.length > 0;
      }
      for (const probe of probes) if ((await manager.query(probe.sql, probe.parameters)).length > 0) return true;
      return false;
    });
  }

  /** A round without outcomes to record: what it claimed (tests claim as a dead instance would). */
  async claim(
    manager: EntityManager,
    now: Date,
    room: ClaimRoom,
    token: string,
    leaseUntil: Date,
  ): Promise<ClaimedDelivery[]> {
    return (await this.round(manager, { now, room, token, leaseUntil, outcomes: [] })).claimed;
  }

  /**
   * One round of the worker, inside one short transaction, in two round trips on
   * MySQL (three when it claims retries):
   * 1. the outcomes of earlier attempts, each under its claim's token; every
   *    endpoint; the due deliveries `room` allows, oldest first per endpoint;
   *    and the oldest events not fanned out yet: both locked with `FOR UPDATE
   *    SKIP LOCKED` (rows another instance holds are skipped, not waited for;
   *    an event whose change has not committed is such a row);
   * 2. the fan-out: per event, one delivery per enabled endpoint that takes its
   *    type, inserted already claimed where the endpoint has room here (and
   *    due now where it has not), the event marked fanned out (or dropped, when
   *    no endpoint takes it any more); the due deliveries claimed; the COMMIT.
   * Once committed, no other instance sends a claimed delivery before `leaseUntil`.
   */
  async round(
    manager: EntityManager,
    input: {
      now: Date;
      room: ClaimRoom;
      token: string;
      leaseUntil: Date;
      outcomes: readonly Outcome[];
      fanOut?: number;
    },
  ): Promise<Round> {
    const { now, room, token, leaseUntil } = input;
    const fanOut = Math.max(0, Math.floor(input.fanOut ?? LIMITS.webhookFanOutBatch));
    const recording = this.outcomeStatements(input.outcomes, now);
    const due = this.dueStatements(now, room, this.endpointIds?.ids ?? [], false);
    const lock = this.database.isMysql ? ' FOR UPDATE SKIP LOCKED' : '';
    const reads: Statement[] = [
      ...recording.statements,
      {
        // In id order, on both databases: which endpoint an event's last room goes to must not depend on how rows are stored.
        sql: 'SELECT id, url, event_types, enabled, secret_ciphertext, previous_secret_ciphertext, previous_secret_expires_at FROM webhook_endpoints ORDER BY id',
        parameters: [],
      },
      ...due,
      ...(fanOut > 0
        ? [
            {
              sql: `SELECT id, webhook_id, type, payload, created_at FROM webhook_events WHERE fanned_out = 0 ORDER BY id LIMIT ${fanOut}${lock}`,
              parameters: [],
            },
          ]
        : []),
    ];
    const results = await this.database.read(manager, reads);
    const recorded = recording.count(results);
    let at = recording.statements.length;
    const endpoints = results[at++].map(sendingEndpoint);
    const dueRows = results.slice(at, at + due.length).flat();
    at += due.length;
    const events = fanOut > 0 ? results[at] : [];
    this.sawEndpoints(endpoints);
    const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));

    // Room: each endpoint's, the round's `total` at most; the due ones first (they are older), then the new events.
    const taken = new Map<string, number>();
    let total = room.total;
    const take = (endpointId: string): boolean => {
      const count = taken.get(endpointId) ?? 0;
      if (total <= 0 || count >= slotsOf(room, endpointId)) return false;
      taken.set(endpointId, count + 1);
      total -= 1;
      return true;
    };
    const claimedDue = dueRows.filter((row) => take(String(row.endpoint_id)));
    const time = sqlTime(now);
    const lease = sqlTime(leaseUntil);
    const inserted: unknown[][] = [];
    const claimed: ClaimedDelivery[] = [];
    const fanned: string[] = [];
    const dropped: string[] = [];
    for (const event of events) {
      const eventId = String(event.id);
      const type = String(event.type);
      const takers = endpoints.filter(
        (endpoint) => endpoint.enabled && (endpoint.eventTypes === '' || endpoint.eventTypes.split(',').includes(type)),
      );
      fanned.push(eventId);
      if (takers.length === 0) dropped.push(eventId);
      const createdAt = sqlTime(rawDate(event.created_at)!);
      for (const endpoint of takers) {
        if (take(endpoint.id)) {
          inserted.push([eventId, endpoint.id, 'PENDING', 1, lease, token, time, createdAt]);
          claimed.push({
            eventId,
            endpointId: endpoint.id,
            token,
            attempts: 1,
            seriesStartedAt: now,
            leaseUntil,
            webhookId: String(event.webhook_id),
            payload: String(event.payload),
            endpoint,
          });
        } else {
          inserted.push([eventId, endpoint.id, 'PENDING', 0, time, null, time, createdAt]);
        }
      }
    }

    const list = (values: readonly unknown[]) => values.map(() => '?').join(', ');
    if (claimedDue.length > 0) {
      const ids = claimedDue.map((row) => String(row.id));
      await this.database.queue(manager, {
        sql: `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, lease_token = ? WHERE id IN (${list(ids)})`,
        parameters: [lease, token, ...ids],
      });
    }
    if (inserted.length > 0) {
      // Never a second delivery of an event to an endpoint (the unique key), whoever wrote the first.
      const conflict = this.database.isMysql
        ? ' ON DUPLICATE KEY UPDATE event_id = event_id'
        : ' ON CONFLICT (event_id, endpoint_id) DO NOTHING';
      await this.database.queue(manager, {
        sql: `INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, lease_token, series_started_at, created_at) VALUES ${inserted.map((row) => `(${list(row)})`).join(', ')}${conflict}`,
        parameters: inserted.flat(),
      });
    }
    if (fanned.length > 0) {
      await this.database.queue(manager, {
        sql: `UPDATE webhook_events SET fanned_out = 1 WHERE id IN (${list(fanned)})`,
        parameters: fanned,
      });
    }
    if (dropped.length > 0) {
      // No endpoint takes it any more (disabled or deleted since it was written): nothing will need it.
      await this.database.queue(manager, {
        sql: `DELETE FROM webhook_events WHERE id IN (${list(dropped)}) AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)`,
        parameters: dropped,
      });
    }
    if (claimedDue.length > 0) {
      // What sending them needs: their events' bodies (with the writes above, in one round trip).
      const eventIds = [...new Set(claimedDue.map((row) => String(row.event_id)))];
      const [bodies] = await this.database.read(manager, [
        {
          sql: `SELECT id, webhook_id, payload FROM webhook_events WHERE id IN (${list(eventIds)})`,
          parameters: eventIds,
        },
      ]);
      const bodyOf = new Map(bodies.map((row) => [String(row.id), row]));
      for (const row of claimedDue) {
        const body = bodyOf.get(String(row.event_id));
        const endpointId = String(row.endpoint_id);
        claimed.push({
          eventId: String(row.event_id),
          endpointId,
          token,
          attempts: rawNumber(row.attempts) + 1,
          seriesStartedAt: rawDate(row.series_started_at)!,
          leaseUntil,
          webhookId: String(body?.webhook_id ?? ''),
          payload: String(body?.payload ?? ''),
          endpoint: body ? (byId.get(endpointId) ?? null) : null,
        });
      }
    }
    return {
      claimed,
      fannedOut: fanned.length,
      moreToFanOut: fanOut > 0 && events.length >= fanOut,
      recorded,
      endpoints,
    };
  }

  /** Outcomes alone, in a transaction of their own (a stopping worker's last): how many counted, by kind. */
  async record(manager: EntityManager, outcomes: readonly Outcome[], now: Date): Promise<Record<OutcomeKind, number>> {
    const recording = this.outcomeStatements(outcomes, now);
    if (recording.statements.length === 0) return recording.count([]);
    return recording.count(await this.database.read(manager, recording.statements));
  }

  /**
   * The statements that record outcomes, each under its claim's token, and
   * each followed by a count of the rows it changed (metrics count an outcome
   * only when its claim was still its own). Deliveries of one endpoint, claim
   * and status share one statement; a retry or a failure is one each (its own
   * time and error).
   */
  private outcomeStatements(
    outcomes: readonly Outcome[],
    now: Date,
  ): { statements: Statement[]; count: (results: Record<string, unknown>[][]) => Record<OutcomeKind, number> } {
    const statements: Statement[] = [];
    const counted: { index: number; kind: OutcomeKind }[] = [];
    const time = sqlTime(now);
    const rowCount = {
      sql: this.database.isMysql ? 'SELECT ROW_COUNT() AS n' : 'SELECT changes() AS n',
      parameters: [],
    };
    const add = (kind: OutcomeKind, statement: Statement) => {
      statements.push(statement, rowCount);
      counted.push({ index: statements.length - 1, kind });
    };
    const groups = new Map<string, { outcome: Outcome; eventIds: string[] }>();
    for (const outcome of outcomes) {
      if (outcome.kind === 'delivered' || outcome.kind === 'released') {
        const key = [
          outcome.kind,
          outcome.endpointId,
          outcome.token,
          outcome.kind === 'delivered' ? outcome.status : '',
        ].join(' ');
        const group = groups.get(key) ?? { outcome, eventIds: [] };
        group.eventIds.push(outcome.eventId);
        groups.set(key, group);
        continue;
      }
      const where = "WHERE event_id = ? AND endpoint_id = ? AND lease_token = ? AND state = 'PENDING'";
      const key = [outcome.eventId, outcome.endpointId, outcome.token];
      if (outcome.kind === 'retried')
        add('retried', {
          sql: `UPDATE webhook_deliveries SET last_status = ?, last_error = ?, next_attempt_at = ? ${where}`,
          parameters: [outcome.status, outcome.error.slice(0, 300), sqlTime(outcome.nextAttemptAt), ...key],
        });
      else
        add('failed', {
          sql: `UPDATE webhook_deliveries SET state = 'FAILED', last_status = ?, last_error = ?, next_attempt_at = NULL ${where}`,
          parameters: [outcome.status, outcome.error.slice(0, 300), ...key],
        });
    }
    for (const { outcome, eventIds } of groups.values()) {
      const of = `endpoint_id = ? AND lease_token = ? AND event_id IN (${eventIds.map(() => '?').join(', ')})`;
      const key = [outcome.endpointId, outcome.token, ...eventIds];
      if (outcome.kind === 'delivered')
        // Recorded even if the delivery was failed meanwhile (its endpoint disabled): it did arrive.
        add('delivered', {
          sql: `UPDATE webhook_deliveries SET state = 'DELIVERED', last_status = ?, last_error = NULL, next_attempt_at = NULL, delivered_at = ? WHERE ${of}`,
          parameters: [outcome.status, time, ...key],
        });
      else
        add('released', {
          sql: `UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = ?, lease_token = NULL WHERE ${of} AND state = 'PENDING'`,
          parameters: [time, ...key],
        });
    }
    return {
      statements,
      count: (results) => {
        const recorded: Record<OutcomeKind, number> = { delivered: 0, retried: 0, failed: 0, released: 0 };
        for (const { index, kind } of counted) recorded[kind] += rawNumber(results[index]?.[0]?.n);
        return recorded;
      },
    };
  }

  /** Every endpoint's id, as last read (by a round, or here once that is LIMITS.webhookSubscribersCacheMs old). */
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
   * on another instance since, or gone), one more part that leaves the known
   * ones out. One statement on MySQL, one per part on SQLite. `probe`: one row
   * per part, nothing locked (anyDue).
   */
  private dueStatements(now: Date, room: ClaimRoom, known: readonly string[], probe: boolean): Statement[] {
    const lock = !probe && this.database.isMysql ? ' FOR UPDATE SKIP LOCKED' : '';
    const limit = (count: number) => Math.max(1, Math.floor(probe ? 1 : Math.min(count, room.total)));
    const list = (values: readonly unknown[]) => values.map(() => '?').join(', ');
    const columns = probe ? 'id, endpoint_id' : 'id, event_id, endpoint_id, attempts, series_started_at';
    const time = sqlTime(now);
    const parts: Statement[] = [];
    const knownSet = new Set(known);
    // Never what this instance still holds past its lease (an attempt running long).
    const held = (endpointId: string) => room.lapsed?.get(endpointId) ?? [];
    for (const endpointId of known) {
      const free = slotsOf(room, endpointId);
      if (free <= 0) continue;
      const mine = held(endpointId);
      parts.push({
        sql: `SELECT ${columns} FROM webhook_deliveries WHERE state = 'PENDING' AND endpoint_id = ? AND next_attempt_at <= ?${mine.length > 0 ? ` AND event_id NOT IN (${list(mine)})` : ''} ORDER BY next_attempt_at LIMIT ${limit(free)}${lock}`,
        parameters: [endpointId, time, ...mine],
      });
    }
    // The rest: endpoints this instance does not know yet or any more, those with no room left out;
    // one endpoint's default room a round (rows locked here and not taken wait for the commit).
    const full = [...room.busy.keys()].filter((id) => !knownSet.has(id) && slotsOf(room, id) <= 0);
    const skip = [...known, ...full];
    const mine = [...(room.lapsed ?? new Map<string, readonly string[]>())].filter(([id]) => !knownSet.has(id));
    const notMine = mine.map(([, ids]) => ` AND NOT (endpoint_id = ? AND event_id IN (${list(ids)}))`).join('');
    parts.push({
      sql: `SELECT ${columns} FROM webhook_deliveries WHERE state = 'PENDING'${skip.length > 0 ? ` AND endpoint_id NOT IN (${list(skip)})` : ''} AND next_attempt_at <= ?${notMine} ORDER BY endpoint_id, next_attempt_at LIMIT ${limit(room.perEndpoint)}${lock}`,
      parameters: [...skip, time, ...mine.flatMap(([id, ids]) => [id, ...ids])],
    });
    if (!this.database.isMysql || probe) return parts;
    return [
      {
        sql: parts.map((part) => `(${part.sql})`).join(' UNION ALL '),
        parameters: parts.flatMap((part) => part.parameters),
      },
    ];
  }

  /** Failed for good under its claim, outside a round: the 410 path, in its own transaction. */
  async failed(manager: EntityManager, claim: ClaimKey, status: number | null, error: string): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(WebhookDeliveryRecord)
      .set({ state: 'FAILED', lastStatus: status, lastError: error, nextAttemptAt: null })
      .where('event_id = :eventId AND endpoint_id = :endpointId', claim)
      .andWhere('lease_token = :token', { token: claim.token })
      .andWhere("state = 'PENDING'")
      .execute();
    return (result.affected ?? 0) > 0;
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

  /**
   * When the oldest event not yet delivered to every endpoint was written: the
   * oldest PENDING delivery's, or the oldest event not fanned out yet (by id,
   * close enough), whichever is older; null when none waits.
   */
  async oldestPending(): Promise<Date | null> {
    const [pending, unfanned] = await this.database.run(async (manager) => [
      await manager.query("SELECT MIN(created_at) AS oldest FROM webhook_deliveries WHERE state = 'PENDING'"),
      await manager.query('SELECT created_at AS oldest FROM webhook_events WHERE fanned_out = 0 ORDER BY id LIMIT 1'),
    ]);
    const times = [...pending, ...unfanned]
      .map((row: { oldest: unknown }) => rawDate(row.oldest))
      .filter((time): time is Date => time !== null);
    return times.length === 0 ? null : new Date(Math.min(...times.map((time) => time.getTime())));
  }

  /**
   * One batch of the retention purge, in its own short transaction: delivered and
   * failed deliveries written before `cutoff`, then events before it that were
   * fanned out and that no delivery needs (one not fanned out yet is still owed). Returns the rows deleted (less than `batch` of each: done).
   */
  async purgeBatch(cutoff: Date, batch: number): Promise<{ deliveries: number; events: number }> {
    const size = Math.max(1, Math.floor(batch));
    const time = sqlTime(cutoff);
    const deliveries = this.database.isMysql
      ? `DELETE FROM webhook_deliveries WHERE state IN ('DELIVERED', 'FAILED') AND created_at < ? LIMIT ${size}`
      : `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE state IN ('DELIVERED', 'FAILED') AND created_at < ? LIMIT ${size})`;
    const unneeded = 'NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)';
    const events = this.database.isMysql
      ? `DELETE FROM webhook_events WHERE created_at < ? AND fanned_out = 1 AND ${unneeded} LIMIT ${size}`
      : `DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE created_at < ? AND fanned_out = 1 AND ${unneeded} LIMIT ${size})`;
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
  return (room.limits?.get(endpointId) ?? room.perEndpoint) - (room.busy.get(endpointId)?.length ?? 0);
}

function sendingEndpoint(row: Record<string, unknown>): SendingEndpoint {
  return {
    id: String(row.id),
    url: String(row.url),
    enabled: rawBoolean(row.enabled),
    eventTypes: String(row.event_types ?? ''),
    secretCiphertext: String(row.secret_ciphertext),
    previousSecretCiphertext: (row.previous_secret_ciphertext as string | null) ?? null,
    previousSecretExpiresAt: rawDate(row.previous_secret_expires_at),
  };
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
