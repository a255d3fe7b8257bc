import { type EntityManager, In, LessThan, LessThanOrEqual, Not } from 'typeorm';
import {
  WebhookDeliveryRecord,
  WebhookEndpointRecord,
  WebhookEventRecord,
  WebhookLockRecord,
} from '../../../../src/webhooks/webhook.entities';
import { type ClaimedDelivery, type ClaimRoom, WebhookRepository } from '../../../../src/webhooks/webhook.repository';
import { bigintId, filled, type PlainSqlCase, withoutId, writesAlike } from './harness';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);

const endpoint = (id: string, enabled: boolean) =>
  filled(WebhookEndpointRecord, {
    id,
    url: `https://hooks.example.com/${id}`,
    eventTypes: 'TOTP_ENABLED,TWO_FACTOR_DISABLED',
    enabled,
    disabledReason: enabled ? 'was disabled once' : 'answered 410 Gone',
    secretCiphertext: `v1.secret-${id}`,
    previousSecretCiphertext: `v1.previous-${id}`,
    previousSecretExpiresAt: at(60),
    createdAt: at(-600),
    updatedAt: at(-300),
  });

const event = (id: string, createdAt: Date) =>
  filled(WebhookEventRecord, {
    id,
    webhookId: `msg_${id}`,
    type: 'TOTP_ENABLED',
    payload: `{"type":"TOTP_ENABLED","id":"${id}","note":"✓"}`,
    createdAt,
  });

/** A delivery with every column set (those a state leaves empty set anyway: the reads must not depend on them). */
const delivery = (
  id: string,
  eventId: string,
  endpointId: string,
  state: string,
  nextAttemptAt: Date,
  createdAt = at(-60),
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
    leaseToken: `lease-${id}`,
    seriesStartedAt: at(-120),
    createdAt,
    deliveredAt: at(-30),
  });

/** Replaces every row of the outbox with these. */
async function putOutbox(
  manager: EntityManager,
  rows: { endpoints?: WebhookEndpointRecord[]; events?: WebhookEventRecord[]; deliveries?: WebhookDeliveryRecord[] },
): Promise<void> {
  await manager.clear(WebhookDeliveryRecord);
  await manager.clear(WebhookEventRecord);
  await manager.clear(WebhookEndpointRecord);
  if (rows.endpoints?.length) await manager.insert(WebhookEndpointRecord, rows.endpoints);
  if (rows.events?.length) await manager.insert(WebhookEventRecord, rows.events);
  if (rows.deliveries?.length) await manager.insert(WebhookDeliveryRecord, rows.deliveries);
}

const deliveries = (manager: EntityManager) => manager.find(WebhookDeliveryRecord, { order: { id: 'ASC' } });

/**
 * The claim's seed: endpoint a with three due and one later, b with one due of
 * its own and one this instance holds already, a delivery of an endpoint that
 * is gone (claimed by the query for endpoints not known), final ones.
 */
async function putClaimable(manager: EntityManager): Promise<void> {
  await putOutbox(manager, {
    endpoints: [endpoint('ep-a', true), endpoint('ep-b', true), endpoint('ep-c', false)],
    events: [event('101', at(-60)), event('102', at(-50))],
    deliveries: [
      delivery('1', '101', 'ep-a', 'PENDING', at(-3)),
      delivery('2', '101', 'ep-a', 'PENDING', at(-2)),
      delivery('3', '102', 'ep-a', 'PENDING', at(-1)),
      delivery('4', '102', 'ep-a', 'PENDING', at(1)),
      delivery('5', '101', 'ep-b', 'PENDING', at(-5)),
      delivery('6', '102', 'ep-b', 'PENDING', at(-4)),
      delivery('7', '101', 'ep-b', 'DELIVERED', at(-6)),
      delivery('8', '102', 'ep-gone', 'PENDING', at(-7)),
      delivery('9', '101', 'ep-c', 'FAILED', at(-8)),
    ],
  });
}

/** Two slots an endpoint; this instance holds b's delivery 5 already. */
const ROOM: ClaimRoom = { total: 10, perEndpoint: 2, busy: new Map([['ep-b', ['5']]]) };

/** The due deliveries `room` lets this instance claim, by TypeORM's finds: each known endpoint's oldest, then the rest. */
async function dueByTypeorm(manager: EntityManager, now: Date, room: ClaimRoom): Promise<string[]> {
  const known = (await manager.find(WebhookEndpointRecord, { order: { id: 'ASC' } })).map((row) => row.id);
  const due: string[] = [];
  const pending = (endpointId: unknown, mine: readonly string[]) => ({
    state: 'PENDING',
    endpointId: endpointId as string,
    nextAttemptAt: LessThanOrEqual(now),
    ...(mine.length > 0 ? { id: Not(In([...mine])) } : {}),
  });
  for (const endpointId of known) {
    const mine = room.busy.get(endpointId) ?? [];
    const free = room.perEndpoint - mine.length;
    if (free <= 0) continue;
    const rows = await manager.find(WebhookDeliveryRecord, {
      where: pending(endpointId, mine),
      order: { nextAttemptAt: 'ASC' },
      take: Math.min(free, room.total),
    });
    due.push(...rows.map((row) => bigintId(row.id)!));
  }
  // Endpoints not known (made elsewhere, or gone), but those whose slots this instance holds all.
  const unknownBusy = [...room.busy].filter(([endpointId]) => !known.includes(endpointId));
  const full = unknownBusy.filter(([, ids]) => room.perEndpoint - ids.length <= 0).map(([endpointId]) => endpointId);
  const rest = await manager.find(WebhookDeliveryRecord, {
    where: pending(
      Not(In([...known, ...full])),
      unknownBusy.flatMap(([, ids]) => ids),
    ),
    order: { endpointId: 'ASC', nextAttemptAt: 'ASC' },
    take: room.perEndpoint,
  });
  return [...due, ...rest.map((row) => bigintId(row.id)!)];
}

/** What a claim answers of a delivery, from TypeORM's entity reads. */
async function claimedByTypeorm(manager: EntityManager, id: string): Promise<ClaimedDelivery> {
  const row = await manager.findOneByOrFail(WebhookDeliveryRecord, { id });
  const { webhookId, payload } = await manager.findOneByOrFail(WebhookEventRecord, { id: row.eventId });
  const target = await manager.findOneBy(WebhookEndpointRecord, { id: row.endpointId });
  return {
    id,
    endpointId: row.endpointId,
    attempts: row.attempts,
    seriesStartedAt: row.seriesStartedAt,
    webhookId,
    payload,
    endpoint: target && {
      id: target.id,
      url: target.url,
      enabled: target.enabled,
      secretCiphertext: target.secretCiphertext,
      previousSecretCiphertext: target.previousSecretCiphertext,
      previousSecretExpiresAt: target.previousSecretExpiresAt,
    },
  };
}

const byId = (a: { id: string }, b: { id: string }) => Number(a.id) - Number(b.id);

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
    name: "an event and a delivery per enabled endpoint, queued with the COMMIT, are the rows TypeORM's inserts write",
    holds: ['WebhookRepository.insertEvent'],
    run: (db) => {
      const { id: _id, ...outboxEvent } = event('0', at(-1));
      const listed = ['ep-a', 'ep-c', 'ep-gone'];
      return writesAlike(db, {
        seed: (manager) =>
          putOutbox(manager, { endpoints: [endpoint('ep-a', true), endpoint('ep-b', true), endpoint('ep-c', false)] }),
        plain: (tx) => new WebhookRepository(db.database).insertEvent(tx, outboxEvent, listed, NOW),
        typeorm: async (tx) => {
          const inserted = await tx.insert(WebhookEventRecord, outboxEvent);
          const eventId = String(inserted.identifiers[0].id);
          const enabled = await tx.findBy(WebhookEndpointRecord, { id: In(listed), enabled: true });
          await tx.insert(
            WebhookDeliveryRecord,
            enabled.map((one) => ({
              eventId,
              endpointId: one.id,
              state: 'PENDING',
              attempts: 0,
              nextAttemptAt: NOW,
              seriesStartedAt: NOW,
              createdAt: NOW,
            })),
          );
        },
        // Ids are the database's: a delivery names its event by the event's webhook id.
        rows: async (manager) => {
          const events = await manager.find(WebhookEventRecord);
          const webhookIdOf = new Map(events.map((one) => [bigintId(one.id), one.webhookId]));
          return {
            events: events.map(withoutId),
            deliveries: (await deliveries(manager)).map((one) => ({
              ...withoutId(one),
              eventId: webhookIdOf.get(bigintId(one.eventId)),
            })),
          };
        },
      });
    },
  },
  {
    name: 'a worker claims the due deliveries TypeORM finds (its room per endpoint, unknown endpoints too) and reads what sending them needs as TypeORM reads it',
    holds: ['WebhookRepository.dueRows', 'WebhookRepository.claim'],
    async run(db) {
      const leaseUntil = at(5);
      await putClaimable(db.manager);
      const expectedIds = await dueByTypeorm(db.manager, NOW, ROOM);
      expect([...expectedIds].sort()).toEqual(['1', '2', '6', '8']);
      expect(await new WebhookRepository(db.database).anyDue(NOW, ROOM)).toBe(true);

      const { plain, after } = await writesAlike(db, {
        seed: putClaimable,
        plain: (tx) => new WebhookRepository(db.database).claim(tx, NOW, ROOM, 'the-token', leaseUntil),
        typeorm: async (tx) => {
          const ids = await dueByTypeorm(tx, NOW, ROOM);
          await tx.increment(WebhookDeliveryRecord, { id: In(ids) }, 'attempts', 1);
          await tx.update(
            WebhookDeliveryRecord,
            { id: In(ids) },
            { nextAttemptAt: leaseUntil, leaseToken: 'the-token' },
          );
          return ids;
        },
        rows: deliveries,
      });
      const claimed = [...(plain as ClaimedDelivery[])].sort(byId);
      expect(claimed.map((one) => one.id)).toEqual(['1', '2', '6', '8']);
      expect(claimed).toEqual(await Promise.all(claimed.map((one) => claimedByTypeorm(db.manager, one.id))));
      expect(claimed.find((one) => one.id === '8')?.endpoint).toBeNull();
      // Leased now: the claimed ones are not due again (a's third is), nor anything once every slot is held.
      expect(after).toEqual(await deliveries(db.manager));
      expect(await dueByTypeorm(db.manager, NOW, ROOM)).toEqual(['3']);
      expect(await new WebhookRepository(db.database).anyDue(NOW, ROOM)).toBe(true);
      const full: ClaimRoom = {
        total: 10,
        perEndpoint: 2,
        busy: new Map([
          ['ep-a', ['1', '2']],
          ['ep-b', ['5', '6']],
          ['ep-gone', ['8']],
        ]),
      };
      expect(await dueByTypeorm(db.manager, NOW, full)).toEqual([]);
      expect(await new WebhookRepository(db.database).anyDue(NOW, full)).toBe(false);
    },
  },
  {
    name: "the retention purge removes the final deliveries and the unneeded events TypeORM's deletes remove",
    holds: ['WebhookRepository.purgeBatch'],
    async run(db) {
      const seed = (manager: EntityManager) =>
        putOutbox(manager, {
          endpoints: [endpoint('ep-a', true)],
          events: [event('201', at(-90)), event('202', at(-90)), event('203', at(10)), event('204', at(-90))],
          deliveries: [
            delivery('21', '201', 'ep-a', 'DELIVERED', at(-1), at(-80)),
            delivery('22', '201', 'ep-a', 'FAILED', at(-1), at(-70)),
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
            const old = await tx.findBy(WebhookEventRecord, { createdAt: LessThan(NOW) });
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
