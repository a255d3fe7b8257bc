import { type EntityManager, In, LessThan, LessThanOrEqual, Not } from 'typeorm';
import {
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEventRecord,
  WebhookLockRecord,
} from '../../../../src/webhooks/webhook.entities';
import {
  type ClaimedDelivery,
  type ClaimKey,
  type ClaimRoom,
  type Outcome,
  type OutcomeKind,
  type Round,
  type SendingEndpoint,
  WebhookRepository,
} from '../../../../src/webhooks/webhook.repository';
import { bigintId, filled, type PlainSqlCase, withoutId, writesAlike } from './harness';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

const endpoint = (id: string, enabled: boolean, eventTypes = 'TOTP_ENABLED,TWO_FACTOR_DISABLED') =>
  filled(WebhookEndpointRecord, {
    id,
    url: `https://hooks.example.com/${id}`,
    eventTypes,
    enabled,
    disabledReason: enabled ? 'was disabled once' : 'answered 410 Gone',
    secretCiphertext: `v1.secret-${id}`,
    previousSecretCiphertext: `v1.previous-${id}`,
    previousSecretExpiresAt: at(60),
    createdAt: at(-600),
    updatedAt: at(-300),
  });
/** An endpoint that takes every type: an empty list. */
const takingAll = (id: string, enabled: boolean) => endpoint(id, enabled, '');

/** An event, fanned out already unless `fannedOut` is false. */
const event = (id: string, createdAt: Date, type = 'TOTP_ENABLED', fannedOut = true) =>
  Object.assign(
    filled(WebhookEventRecord, {
      id,
      webhookId: `msg_${id}`,
      type,
      payload: `{"type":"${type}","id":"${id}","note":"✓"}`,
      createdAt,
      fannedOut: true,
    }),
    { fannedOut },
  );

/** A delivery with every column set (those a state leaves empty set anyway: the reads must not depend on them). */
const delivery = (
  id: string,
  eventId: string,
  endpointId: string,
  state: string,
  nextAttemptAt: Date,
  createdAt = at(-60),
  leaseToken = `lease-${id}`,
) =>
  filled(WebhookDeliveryRecord, {
    id,
    eventId,
    endpointId,
    state,
    attempts: 2,
    lastStatus: 503,
    lastError: 'HTTP 503 ✓',
    nextAttemptAt,
    leaseToken,
    seriesStartedAt: at(-120),
    createdAt,
    deliveredAt: at(-30),
  });

interface Outbox {
  endpoints?: WebhookEndpointRecord[];
  events?: WebhookEventRecord[];
  deliveries?: WebhookDeliveryRecord[];
}

/** Replaces every row of the outbox with these. */
async function putOutbox(manager: EntityManager, rows: Outbox): Promise<void> {
  await manager.clear(WebhookDeliveryRecord);
  await manager.clear(WebhookEventRecord);
  await manager.clear(WebhookEndpointRecord);
  // Copies: TypeORM's insert writes the ids it reads back into the objects given, and the seeds are used again.
  const copies = <T extends object>(entity: new () => T, list: T[] | undefined) =>
    (list ?? []).map((row) => Object.assign(new entity(), row));
  if (rows.endpoints?.length)
    await manager.insert(WebhookEndpointRecord, copies(WebhookEndpointRecord, rows.endpoints));
  if (rows.events?.length) await manager.insert(WebhookEventRecord, copies(WebhookEventRecord, rows.events));
  if (rows.deliveries?.length)
    await manager.insert(WebhookDeliveryRecord, copies(WebhookDeliveryRecord, rows.deliveries));
}

const deliveries = (manager: EntityManager) => manager.find(WebhookDeliveryRecord, { order: { id: 'ASC' } });

/** The whole outbox; deliveries without the ids the database gives (a fan-out's), by event and endpoint. */
const outboxRows = async (manager: EntityManager) => ({
  events: (await manager.find(WebhookEventRecord, { order: { id: 'ASC' } })).map((row) => ({
    ...row,
    id: bigintId(row.id),
  })),
  deliveries: (await manager.find(WebhookDeliveryRecord, { order: { eventId: 'ASC', endpointId: 'ASC' } })).map(
    (row) => ({ ...withoutId(row), eventId: bigintId(row.eventId) }),
  ),
});

const slotsOf = (room: ClaimRoom, endpointId: string) =>
  (room.limits?.get(endpointId) ?? room.perEndpoint) - (room.busy.get(endpointId)?.length ?? 0);

/**
 * The due deliveries `room` lets a round read, by TypeORM's finds: each known
 * endpoint's oldest (those this instance holds past their lease left out),
 * then one endpoint's default room of the rest (endpoints not known, those
 * with no room left out).
 */
async function dueByTypeorm(
  manager: EntityManager,
  now: Date,
  room: ClaimRoom,
  known: readonly string[],
): Promise<WebhookDeliveryRecord[]> {
  const limit = (count: number) => Math.max(1, Math.floor(Math.min(count, room.total)));
  const due: WebhookDeliveryRecord[] = [];
  for (const endpointId of known) {
    const free = slotsOf(room, endpointId);
    if (free <= 0) continue;
    const mine = room.lapsed?.get(endpointId) ?? [];
    due.push(
      ...(await manager.find(WebhookDeliveryRecord, {
        where: {
          state: 'PENDING',
          endpointId,
          nextAttemptAt: LessThanOrEqual(now),
          ...(mine.length > 0 ? { eventId: Not(In([...mine])) } : {}),
        },
        order: { nextAttemptAt: 'ASC' },
        take: limit(free),
      })),
    );
  }
  const full = [...room.busy.keys()].filter((id) => !known.includes(id) && slotsOf(room, id) <= 0);
  const skip = [...known, ...full];
  const rest = await manager.find(WebhookDeliveryRecord, {
    where: {
      state: 'PENDING',
      nextAttemptAt: LessThanOrEqual(now),
      ...(skip.length > 0 ? { endpointId: Not(In(skip)) } : {}),
    },
    order: { endpointId: 'ASC', nextAttemptAt: 'ASC' },
  });
  const held = (row: WebhookDeliveryRecord) =>
    !known.includes(row.endpointId) && (room.lapsed?.get(row.endpointId) ?? []).includes(bigintId(row.eventId)!);
  due.push(...rest.filter((row) => !held(row)).slice(0, limit(room.perEndpoint)));
  return due;
}

const sending = (row: WebhookEndpointRecord): SendingEndpoint => ({
  id: row.id,
  url: row.url,
  enabled: row.enabled,
  eventTypes: row.eventTypes,
  secretCiphertext: row.secretCiphertext,
  previousSecretCiphertext: row.previousSecretCiphertext,
  previousSecretExpiresAt: row.previousSecretExpiresAt,
});

const takes = (row: WebhookEndpointRecord, type: string) =>
  row.enabled && (row.eventTypes === '' || row.eventTypes.split(',').includes(type));

interface RoundInput {
  now: Date;
  room: ClaimRoom;
  token: string;
  leaseUntil: Date;
  fanOut: number;
}

/**
 * A round by TypeORM's reads and writes (docs/adr/0019): the due deliveries
 * claimed, then each event not fanned out (oldest first) given a delivery per
 * enabled endpoint that takes its type, claimed where the endpoint has room
 * (the due ones took it first) and due now where it has not; the events
 * marked fanned out, or deleted when no endpoint takes them and no delivery needs them.
 */
async function roundByTypeorm(tx: EntityManager, known: readonly string[], input: RoundInput): Promise<Round> {
  const { now, room, token, leaseUntil, fanOut } = input;
  const endpoints = await tx.find(WebhookEndpointRecord, { order: { id: 'ASC' } });
  const dueRows = await dueByTypeorm(tx, now, room, known);
  const events = await tx.find(WebhookEventRecord, { where: { fannedOut: false }, order: { id: 'ASC' }, take: fanOut });
  const taken = new Map<string, number>();
  let total = room.total;
  const take = (endpointId: string) => {
    const count = taken.get(endpointId) ?? 0;
    if (total <= 0 || count >= slotsOf(room, endpointId)) return false;
    taken.set(endpointId, count + 1);
    total -= 1;
    return true;
  };
  const claimedDue = dueRows.filter((row) => take(row.endpointId));
  const claimed: ClaimedDelivery[] = [];
  for (const one of events) {
    const eventId = bigintId(one.id)!;
    const takers = endpoints.filter((row) => takes(row, one.type));
    for (const target of takers) {
      const claim = take(target.id);
      await tx
        .createQueryBuilder()
        .insert()
        .into(WebhookDeliveryRecord)
        .values({
          eventId,
          endpointId: target.id,
          state: 'PENDING',
          attempts: claim ? 1 : 0,
          nextAttemptAt: claim ? leaseUntil : now,
          leaseToken: claim ? token : null,
          seriesStartedAt: now,
          createdAt: one.createdAt,
        })
        .orIgnore()
        .execute();
      if (claim)
        claimed.push({
          eventId,
          endpointId: target.id,
          token,
          attempts: 1,
          seriesStartedAt: now,
          leaseUntil,
          webhookId: one.webhookId,
          payload: one.payload,
          endpoint: sending(target),
        });
    }
    await tx.update(WebhookEventRecord, { id: one.id }, { fannedOut: true });
    if (takers.length === 0 && !(await tx.existsBy(WebhookDeliveryRecord, { eventId: one.id })))
      await tx.delete(WebhookEventRecord, { id: one.id });
  }
  for (const row of claimedDue) {
    const body = await tx.findOneBy(WebhookEventRecord, { id: row.eventId });
    const target = endpoints.find((one) => one.id === row.endpointId);
    claimed.push({
      eventId: bigintId(row.eventId)!,
      endpointId: row.endpointId,
      token,
      attempts: row.attempts + 1,
      seriesStartedAt: row.seriesStartedAt,
      leaseUntil,
      webhookId: body?.webhookId ?? '',
      payload: body?.payload ?? '',
      endpoint: body && target ? sending(target) : null,
    });
  }
  const ids = claimedDue.map((row) => row.id);
  if (ids.length > 0) {
    await tx.increment(WebhookDeliveryRecord, { id: In(ids) }, 'attempts', 1);
    await tx.update(WebhookDeliveryRecord, { id: In(ids) }, { nextAttemptAt: leaseUntil, leaseToken: token });
  }
  return {
    claimed,
    fannedOut: events.length,
    moreToFanOut: fanOut > 0 && events.length >= fanOut,
    recorded: { delivered: 0, retried: 0, failed: 0, released: 0 },
    endpoints: endpoints.map(sending),
  };
}

/** Outcomes recorded by TypeORM's updates, each under its claim: how many counted, by kind. */
async function recordByTypeorm(
  tx: EntityManager,
  outcomes: readonly Outcome[],
  now: Date,
): Promise<Record<OutcomeKind, number>> {
  const recorded: Record<OutcomeKind, number> = { delivered: 0, retried: 0, failed: 0, released: 0 };
  for (const outcome of outcomes) {
    const claim = { eventId: outcome.eventId, endpointId: outcome.endpointId, leaseToken: outcome.token };
    const pending = { ...claim, state: 'PENDING' };
    let affected: number | undefined;
    if (outcome.kind === 'delivered')
      ({ affected } = await tx.update(WebhookDeliveryRecord, claim, {
        state: 'DELIVERED',
        lastStatus: outcome.status,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: now,
      }));
    else if (outcome.kind === 'retried')
      ({ affected } = await tx.update(WebhookDeliveryRecord, pending, {
        lastStatus: outcome.status,
        lastError: outcome.error.slice(0, 300),
        nextAttemptAt: outcome.nextAttemptAt,
      }));
    else if (outcome.kind === 'failed')
      ({ affected } = await tx.update(WebhookDeliveryRecord, pending, {
        state: 'FAILED',
        lastStatus: outcome.status,
        lastError: outcome.error.slice(0, 300),
        nextAttemptAt: null,
      }));
    else {
      ({ affected } = await tx.decrement(WebhookDeliveryRecord, pending, 'attempts', 1));
      await tx.update(WebhookDeliveryRecord, pending, { nextAttemptAt: now, leaseToken: null });
    }
    recorded[outcome.kind] += affected ?? 0;
  }
  return recorded;
}

/**
 * A round's seed: endpoints (stored out of id order) taking some types, one
 * taking all but disabled; due deliveries of known endpoints, of one gone, one
 * held here past its lease, one in flight here, one not due, final ones; events
 * not fanned out yet of types different endpoints take, one with a delivery an
 * older instance made already.
 */
const ROUND_OUTBOX: Outbox = {
  endpoints: [
    endpoint('ep-d', true, 'LOGIN_VERIFIED'),
    takingAll('ep-c', false),
    takingAll('ep-b', true),
    endpoint('ep-a', true),
  ],
  events: [
    event('101', at(-60)),
    event('102', at(-50)),
    event('103', at(-40)),
    event('104', at(-30)),
    event('111', at(-9), 'TOTP_ENABLED', false),
    event('112', at(-8), 'SMS_ENABLED', false),
    event('113', at(-7), 'LOGIN_VERIFIED', false),
    event('114', at(-6), 'TWO_FACTOR_DISABLED', false),
  ],
  deliveries: [
    delivery('1', '101', 'ep-a', 'PENDING', at(-3)),
    delivery('2', '102', 'ep-a', 'PENDING', at(-2)),
    delivery('3', '103', 'ep-a', 'PENDING', at(-1)),
    delivery('4', '104', 'ep-a', 'PENDING', at(1)),
    delivery('5', '101', 'ep-b', 'PENDING', at(5)),
    // Due exactly now (a known endpoint's, and one not known).
    delivery('6', '102', 'ep-b', 'PENDING', NOW),
    delivery('7', '103', 'ep-b', 'DELIVERED', at(-6)),
    delivery('8', '102', 'ep-gone', 'PENDING', NOW),
    delivery('9', '101', 'ep-c', 'FAILED', at(-8)),
    delivery('10', '103', 'ep-gone', 'PENDING', at(-6)),
    delivery('11', '113', 'ep-b', 'PENDING', at(2)),
  ],
};

/** ep-a may hold 4 here, ep-b 3 (one in flight), the others 2; 6 in all; ep-gone's delivery for event 103 is held here past its lease. */
const ROUND_ROOM: ClaimRoom = {
  total: 6,
  perEndpoint: 2,
  limits: new Map([
    ['ep-a', 4],
    ['ep-b', 3],
  ]),
  busy: new Map([['ep-b', ['101']]]),
  lapsed: new Map([['ep-gone', ['103']]]),
};

/** Events that no endpoint takes any more: dropped, unless a delivery (an older instance's) still needs the row. */
const DROPPING_OUTBOX: Outbox = {
  endpoints: [endpoint('ep-a', true), takingAll('ep-c', false)],
  events: [
    event('121', at(-9), 'TOTP_ENABLED', false),
    event('122', at(-8), 'SMS_ENABLED', false),
    event('123', at(-7), 'SMS_ENABLED', false),
    event('124', at(-6), 'SMS_ENABLED'),
  ],
  deliveries: [delivery('31', '123', 'ep-c', 'FAILED', at(-1))],
};

const ROOM: ClaimRoom = { total: 10, perEndpoint: 2, busy: new Map() };

const byClaim = (a: ClaimKey, b: ClaimKey) =>
  Number(a.eventId) - Number(b.eventId) || a.endpointId.localeCompare(b.endpointId);

export const WEBHOOK_CASES: PlainSqlCase[] = [
  {
    name: "the endpoints' lock row is taken as TypeORM's upsert takes it, and the count is TypeORM's",
    holds: ['WebhookRepository.countEndpointsLocked'],
    // SQLite runs one transaction at a time: it needs no lock row and sends nothing.
    mysqlOnly: true,
    async run(db) {
      const { plain, typeorm } = await writesAlike(db, {
        seed: async (manager) => {
          await putOutbox(manager, { endpoints: [endpoint('ep-a', true), endpoint('ep-c', false)] });
          await manager.delete(WebhookLockRecord, { name: 'endpoints' });
        },
        plain: (tx) => new WebhookRepository(db.database).countEndpointsLocked(tx),
        typeorm: async (tx) => {
          await tx.upsert(WebhookLockRecord, { name: 'endpoints' }, ['name']);
          return tx.count(WebhookEndpointRecord);
        },
        rows: (manager) => manager.find(WebhookLockRecord),
      });
      expect(plain).toBe(typeorm);
      expect(plain).toBe(2);
      // With the row there already, it stays as it is.
      const before = await db.manager.find(WebhookLockRecord);
      await db.database.transaction((tx) => new WebhookRepository(db.database).countEndpointsLocked(tx));
      expect(await db.manager.find(WebhookLockRecord)).toEqual(before);
    },
  },
  {
    name: "an event queued with the COMMIT is the row TypeORM's insert writes, only while an enabled endpoint takes its type (asked of the database, or as a round saw them)",
    holds: ['WebhookRepository.insertEvent'],
    async run(db) {
      // Taken by ep-a (first and second of its list), by ep-d, by nothing (a prefix, and a type only a disabled endpoint takes).
      const types = ['TOTP_ENABLED', 'TWO_FACTOR_DISABLED', 'TOTP', 'LOGIN_VERIFIED', 'SMS_ENABLED'];
      const written = types.map((type, i) => {
        const { id: _id, ...outboxEvent } = event(String(i), at(i), type, false);
        return outboxEvent;
      });
      const outboxes: Outbox[] = [
        { endpoints: [endpoint('ep-a', true), takingAll('ep-c', false), endpoint('ep-d', true, 'LOGIN_VERIFIED')] },
        { endpoints: [takingAll('ep-c', false), takingAll('ep-e', true)] },
      ];
      const kept: number[] = [];
      for (const outbox of outboxes)
        for (const sawEndpoints of [false, true]) {
          const { after } = await writesAlike(db, {
            seed: (manager) => putOutbox(manager, outbox),
            plain: async (tx) => {
              const repository = new WebhookRepository(db.database, () => NOW.getTime());
              // A round that read the endpoints: the writer trusts what it saw (a plain INSERT … VALUES).
              if (sawEndpoints)
                await repository.round(tx, {
                  now: NOW,
                  room: ROOM,
                  token: 't',
                  leaseUntil: NOW,
                  outcomes: [],
                  fanOut: 0,
                });
              for (const one of written) await repository.insertEvent(tx, one);
            },
            typeorm: async (tx) => {
              const enabled = await tx.findBy(WebhookEndpointRecord, { enabled: true });
              for (const one of written)
                if (enabled.some((row) => takes(row, one.type))) await tx.insert(WebhookEventRecord, { ...one });
            },
            rows: async (manager) =>
              (await manager.find(WebhookEventRecord, { order: { id: 'ASC' } })).map((row) => withoutId(row)),
          });
          kept.push((after as unknown[]).length);
        }
      expect(kept).toEqual([3, 3, 5, 5]);
    },
  },
  {
    name: 'a round claims the due deliveries TypeORM finds and fans the events out as TypeORM writes them (room per endpoint and in all, unknown and held endpoints, dropped events)',
    holds: ['WebhookRepository.round', 'WebhookRepository.dueStatements'],
    async run(db) {
      const leaseUntil = at(5);
      const input = { now: NOW, token: 'the-token', leaseUntil };
      const scenarios: { outbox: Outbox; room: ClaimRoom; fanOut: number; primed: boolean }[] = [
        { outbox: ROUND_OUTBOX, room: ROUND_ROOM, fanOut: 3, primed: true },
        { outbox: ROUND_OUTBOX, room: ROUND_ROOM, fanOut: 100, primed: false },
        { outbox: ROUND_OUTBOX, room: { ...ROUND_ROOM, total: 100 }, fanOut: 100, primed: true },
        { outbox: DROPPING_OUTBOX, room: ROOM, fanOut: 100, primed: true },
      ];
      const claims: string[][] = [];
      for (const { outbox, room, fanOut, primed } of scenarios) {
        const repository = new WebhookRepository(db.database, () => NOW.getTime());
        await putOutbox(db.manager, outbox);
        // Primed: it knows the endpoints (anyDue read them), and claims per endpoint; otherwise all are unknown to it.
        if (primed) await repository.anyDue(NOW, room);
        const known = primed ? (outbox.endpoints ?? []).map((row) => row.id).sort() : [];
        const { plain, typeorm } = await writesAlike(db, {
          seed: (manager) => putOutbox(manager, outbox),
          plain: (tx) => repository.round(tx, { ...input, room, fanOut, outcomes: [] }),
          typeorm: (tx) => roundByTypeorm(tx, known, { ...input, room, fanOut }),
          rows: outboxRows,
        });
        const round = plain as Round;
        expect({ ...round, claimed: [...round.claimed].sort(byClaim) }).toEqual({
          ...(typeorm as Round),
          claimed: [...(typeorm as Round).claimed].sort(byClaim),
        });
        claims.push(round.claimed.map((one) => `${one.eventId}/${one.endpointId}`).sort());
      }
      expect(claims).toEqual([
        // Due first (ep-a's three, ep-b's one, the gone endpoint's one), then the first event to ep-a, the first endpoint by id.
        ['101/ep-a', '102/ep-a', '102/ep-b', '102/ep-gone', '103/ep-a', '111/ep-a'],
        // Knowing no endpoint: one endpoint's room of the due ones, then the events.
        ['101/ep-a', '102/ep-a', '111/ep-a', '111/ep-b', '112/ep-b', '113/ep-d'],
        // Room for all: each endpoint's own room (ep-b's event 113 has a delivery an older instance made: left as it is).
        ['101/ep-a', '102/ep-a', '102/ep-b', '102/ep-gone', '103/ep-a', '111/ep-a', '111/ep-b', '113/ep-d'],
        ['121/ep-a'],
      ]);
    },
  },
  {
    name: "outcomes are recorded under their claims as TypeORM's updates record them (delivered even once failed; never under another claim or once final)",
    holds: ['WebhookRepository.outcomeStatements'],
    async run(db) {
      const seed = (manager: EntityManager) =>
        putOutbox(manager, {
          endpoints: [endpoint('ep-a', true), endpoint('ep-b', true)],
          events: ['101', '102', '103', '104', '105', '106'].map((id) => event(id, at(-60))),
          deliveries: [
            delivery('1', '101', 'ep-a', 'PENDING', at(5), at(-60), 'tok'),
            delivery('2', '102', 'ep-a', 'PENDING', at(5), at(-60), 'tok'),
            delivery('3', '103', 'ep-a', 'FAILED', at(5), at(-60), 'tok'),
            delivery('4', '104', 'ep-a', 'PENDING', at(5), at(-60), 'other-tok'),
            delivery('5', '101', 'ep-b', 'PENDING', at(5), at(-60), 'tok'),
            delivery('6', '102', 'ep-b', 'PENDING', at(5), at(-60), 'tok'),
            delivery('7', '103', 'ep-b', 'PENDING', at(5), at(-60), 'tok'),
            delivery('8', '104', 'ep-b', 'DELIVERED', at(5), at(-60), 'tok'),
            delivery('9', '105', 'ep-b', 'FAILED', at(5), at(-60), 'tok'),
            delivery('10', '105', 'ep-a', 'PENDING', at(5), at(-60), 'tok'),
            delivery('11', '106', 'ep-a', 'DELIVERED', at(5), at(-60), 'tok'),
            delivery('12', '106', 'ep-b', 'PENDING', at(5), at(-60), 'other-tok'),
          ],
        });
      const claim = (eventId: string, endpointId: string) => ({ eventId, endpointId, token: 'tok' });
      const long = `HTTP 500: ${'✗'.repeat(400)}`;
      const outcomes: Outcome[] = [
        { ...claim('101', 'ep-a'), kind: 'delivered', status: 200 },
        { ...claim('102', 'ep-a'), kind: 'delivered', status: 200 },
        { ...claim('103', 'ep-a'), kind: 'delivered', status: 200 },
        { ...claim('104', 'ep-a'), kind: 'delivered', status: 200 },
        { ...claim('101', 'ep-b'), kind: 'delivered', status: 204 },
        { ...claim('102', 'ep-b'), kind: 'retried', status: 500, error: long, nextAttemptAt: at(30) },
        { ...claim('103', 'ep-b'), kind: 'failed', status: null, error: 'connection refused' },
        { ...claim('104', 'ep-b'), kind: 'retried', status: null, error: 'timed out', nextAttemptAt: at(30) },
        { ...claim('105', 'ep-b'), kind: 'failed', status: 400, error: 'HTTP 400' },
        { ...claim('105', 'ep-a'), kind: 'released' },
        { ...claim('106', 'ep-a'), kind: 'released' },
        { ...claim('106', 'ep-b'), kind: 'failed', status: 400, error: 'HTTP 400' },
      ];
      const counted = { delivered: 4, retried: 1, failed: 1, released: 1 };
      // Alone (a stopping worker's last), and with a round (which claims nothing here: nothing is due).
      const { plain, typeorm } = await writesAlike(db, {
        seed,
        plain: (tx) => new WebhookRepository(db.database).record(tx, outcomes, NOW),
        typeorm: (tx) => recordByTypeorm(tx, outcomes, NOW),
        rows: deliveries,
      });
      expect(plain).toEqual(typeorm);
      expect(plain).toEqual(counted);
      const inRound = await writesAlike(db, {
        seed,
        plain: async (tx) =>
          (
            await new WebhookRepository(db.database).round(tx, {
              now: NOW,
              // No room: the outcome released is due again, and is not claimed in the same round here.
              room: { total: 0, perEndpoint: 0, busy: new Map() },
              token: 'next',
              leaseUntil: at(5),
              outcomes,
            })
          ).recorded,
        typeorm: (tx) => recordByTypeorm(tx, outcomes, NOW),
        rows: deliveries,
      });
      expect(inRound.plain).toEqual(inRound.typeorm);
      expect(inRound.plain).toEqual(counted);
    },
  },
  {
    name: 'whether a round would find anything is what TypeORM finds: an event to fan out, or a due delivery the room allows',
    holds: ['WebhookRepository.anyDue'],
    async run({ database, manager }) {
      const endpoints = [endpoint('ep-a', true), endpoint('ep-b', true)];
      const final = [
        delivery('1', '101', 'ep-a', 'DELIVERED', at(-5)),
        delivery('2', '102', 'ep-a', 'PENDING', at(1)),
        delivery('3', '101', 'ep-b', 'FAILED', at(-5)),
      ];
      const events = [event('101', at(-60)), event('102', at(-60)), event('103', at(-60))];
      const full: ClaimRoom = { total: 10, perEndpoint: 1, busy: new Map([['ep-gone', ['103']]]) };
      const situations: [string, Outbox, ClaimRoom, boolean][] = [
        ['nothing due, every event fanned out', { endpoints, events, deliveries: final }, ROOM, false],
        [
          'an event not fanned out',
          { endpoints, events: [...events, event('104', at(-1), 'TOTP_ENABLED', false)], deliveries: final },
          ROOM,
          true,
        ],
        [
          'a due delivery of a known endpoint',
          { endpoints, events, deliveries: [...final, delivery('4', '102', 'ep-b', 'PENDING', NOW)] },
          ROOM,
          true,
        ],
        [
          'one of an endpoint this instance does not know',
          { endpoints, events, deliveries: [...final, delivery('4', '102', 'ep-gone', 'PENDING', at(-1))] },
          ROOM,
          true,
        ],
        [
          'one this instance holds past its lease',
          { endpoints, events, deliveries: [...final, delivery('4', '102', 'ep-b', 'PENDING', at(-1))] },
          { ...ROOM, lapsed: new Map([['ep-b', ['102']]]) },
          false,
        ],
        [
          'one of an endpoint with no room left here',
          { endpoints, events, deliveries: [...final, delivery('4', '102', 'ep-gone', 'PENDING', at(-1))] },
          full,
          false,
        ],
      ];
      for (const [what, outbox, room, expected] of situations) {
        await putOutbox(manager, outbox);
        const known = (await manager.find(WebhookEndpointRecord, { order: { id: 'ASC' } })).map((row) => row.id);
        const typeorm =
          (await dueByTypeorm(manager, NOW, room, known)).length > 0 ||
          (await manager.existsBy(WebhookEventRecord, { fannedOut: false }));
        const plain = await new WebhookRepository(database, () => NOW.getTime()).anyDue(NOW, room);
        expect({ what, plain }).toEqual({ what, plain: typeorm });
        expect({ what, plain }).toEqual({ what, plain: expected });
      }
    },
  },
  {
    name: 'the oldest event not yet delivered is the one TypeORM finds: a pending delivery, or an event not fanned out yet',
    holds: ['WebhookRepository.oldestPending'],
    async run({ database, manager }) {
      const endpoints = [endpoint('ep-a', true)];
      const outboxes: [Outbox, Date | null][] = [
        [
          {
            endpoints,
            events: [
              event('101', at(-200)),
              event('301', at(-40), 'TOTP_ENABLED', false),
              event('302', at(-90), 'TOTP_ENABLED', false),
            ],
            deliveries: [
              delivery('1', '101', 'ep-a', 'DELIVERED', at(-1), at(-100)),
              delivery('2', '101', 'ep-b', 'PENDING', at(-1), at(-50)),
              delivery('3', '101', 'ep-c', 'FAILED', at(-1), at(-150)),
            ],
          },
          at(-50),
        ],
        [
          {
            endpoints,
            events: [event('101', at(-200)), event('301', at(-60), 'TOTP_ENABLED', false)],
            deliveries: [delivery('2', '101', 'ep-b', 'PENDING', at(-1), at(-50))],
          },
          at(-60),
        ],
        [
          {
            endpoints,
            events: [event('101', at(-200))],
            deliveries: [delivery('1', '101', 'ep-a', 'DELIVERED', at(-1), at(-100))],
          },
          null,
        ],
      ];
      for (const [outbox, expected] of outboxes) {
        await putOutbox(manager, outbox);
        const [pending] = await manager.find(WebhookDeliveryRecord, {
          where: { state: 'PENDING' },
          order: { createdAt: 'ASC' },
          take: 1,
        });
        const [unfanned] = await manager.find(WebhookEventRecord, {
          where: { fannedOut: false },
          order: { id: 'ASC' },
          take: 1,
        });
        const times = [pending?.createdAt, unfanned?.createdAt].filter((time): time is Date => time !== undefined);
        const typeorm = times.length === 0 ? null : new Date(Math.min(...times.map((time) => time.getTime())));
        const plain = await new WebhookRepository(database).oldestPending();
        expect(plain).toEqual(typeorm);
        expect(plain).toEqual(expected);
      }
    },
  },
  {
    name: "the retention purge removes the final deliveries and the fanned-out events no delivery needs, as TypeORM's deletes remove them",
    holds: ['WebhookRepository.purgeBatch'],
    async run(db) {
      const seed = (manager: EntityManager) =>
        putOutbox(manager, {
          endpoints: [endpoint('ep-a', true)],
          events: [
            event('201', at(-90)),
            event('202', at(-90)),
            event('203', at(10)),
            event('204', at(-90)),
            event('205', at(-90), 'TOTP_ENABLED', false),
          ],
          deliveries: [
            delivery('21', '201', 'ep-a', 'DELIVERED', at(-1), at(-80)),
            delivery('22', '201', 'ep-b', 'FAILED', at(-1), at(-70)),
            delivery('23', '204', 'ep-a', 'PENDING', at(-1), at(-70)),
            delivery('24', '203', 'ep-a', 'DELIVERED', at(-1), at(20)),
          ],
        });
      const rows = async (manager: EntityManager) => ({
        events: await manager.find(WebhookEventRecord, { order: { id: 'ASC' } }),
        deliveries: await deliveries(manager),
      });
      const { plain, typeorm } = await writesAlike(db, {
        seed,
        // It opens its own transaction.
        transaction: false,
        plain: () => new WebhookRepository(db.database).purgeBatch(NOW, 10),
        typeorm: () =>
          db.database.transaction(async (tx) => {
            const final = await tx.delete(WebhookDeliveryRecord, {
              state: In(['DELIVERED', 'FAILED']),
              createdAt: LessThan(NOW),
            });
            const old = await tx.findBy(WebhookEventRecord, { createdAt: LessThan(NOW), fannedOut: true });
            const unneeded: string[] = [];
            for (const one of old)
              if (!(await tx.existsBy(WebhookDeliveryRecord, { eventId: one.id }))) unneeded.push(one.id);
            const events = await tx.delete(WebhookEventRecord, { id: In(unneeded) });
            return { deliveries: final.affected ?? 0, events: events.affected ?? 0 };
          }),
        rows,
      });
      expect(plain).toEqual(typeorm);
      expect(plain).toEqual({ deliveries: 2, events: 2 });
      // A batch at a time: with room for one, one final delivery, and the one event nothing needs.
      await seed(db.manager);
      expect(await new WebhookRepository(db.database).purgeBatch(NOW, 1)).toEqual({ deliveries: 1, events: 1 });
    },
  },
];
