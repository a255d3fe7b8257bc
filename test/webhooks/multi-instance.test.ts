import { LIMITS } from '../../src/limits';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, PRIVATE_WEBHOOKS, recordAudited, settled, WebhookReceiver } from '../support/webhook-receiver';

const EVENTS = 200;

/** Attempts an instance made, by outcome, from its /metrics. */
async function delivered(t: TestApp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Number(/^webhook_deliveries_total\{outcome="delivered"\} (\S+)$/m.exec(text)?.[1] ?? NaN);
}

/**
 * Two instances on one database, each with its worker: every event is delivered,
 * and none twice while nothing fails (rows are claimed with FOR UPDATE SKIP LOCKED).
 */
describe('webhooks: two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    a = await startTestApp({ env: PRIVATE_WEBHOOKS });
    b = await startTestApp({ env: PRIVATE_WEBHOOKS, databaseUrl: a.databaseUrl, clock: a.clock });
    receiver = await WebhookReceiver.start();
    // Answers take a little time, so both instances have claims in flight together.
    receiver.delayMs = 15;
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
  });

  it(`deliver ${EVENTS} events between them, each exactly once`, async () => {
    const endpoint = await createEndpoint(a, receiver.url);
    const userIds = Array.from({ length: EVENTS }, () => uniqueId('u'));
    // Written by both instances, in parallel transactions, as requests to either would.
    await Promise.all(userIds.map((userId, index) => recordAudited(index % 2 === 0 ? a : b, 'LOGIN_FAILED', userId)));
    // Both workers settled: all that was due is attempted and recorded, and nothing more is claimable,
    // so anything sent twice has arrived.
    await settled(a, b);
    const [row] = await a.sql("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'DELIVERED'");
    expect(Number(row.n)).toBe(EVENTS);
    const ids = receiver.received.map((request) => request.id);
    expect(ids).toHaveLength(EVENTS);
    expect(new Set(ids).size).toBe(EVENTS);
    expect(new Set(receiver.received.map((request) => request.event.data.userId))).toEqual(new Set(userIds));
    for (const request of receiver.received) expect(WebhookReceiver.verify(endpoint.secret, request)).toBeTruthy();
    const attempts = await a.sql('SELECT attempts, COUNT(*) AS n FROM webhook_deliveries GROUP BY attempts');
    expect(attempts.map((row) => [Number(row.attempts), Number(row.n)])).toEqual([[1, EVENTS]]);
    const [byA, byB] = [await delivered(a), await delivered(b)];
    expect(byA + byB).toBe(EVENTS);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  }, 90_000);

  it('fans each event out to every endpoint once, between them: per endpoint, each exactly once', async () => {
    await deleteEndpoints(a);
    const endpoints = [
      await createEndpoint(a, `${receiver.url}/one`, ['login.failed']),
      await createEndpoint(b, `${receiver.url}/two`, ['login.failed']),
      await createEndpoint(a, `${receiver.url}/three`, ['login.failed']),
    ];
    const userIds = Array.from({ length: EVENTS / 2 }, () => uniqueId('fan'));
    const ours = (request: { event: { data: Record<string, unknown> } }) =>
      userIds.includes(String(request.event.data.userId));
    const before = receiver.received.length;
    await Promise.all(userIds.map((userId, index) => recordAudited(index % 2 === 0 ? a : b, 'LOGIN_FAILED', userId)));
    await settled(a, b);
    const got = receiver.received.slice(before).filter(ours);
    expect(got).toHaveLength(userIds.length * endpoints.length);
    for (const path of ['/hooks/one', '/hooks/two', '/hooks/three']) {
      const ids = got.filter((request) => request.path === path).map((request) => request.id);
      expect({ path, events: new Set(ids).size, requests: ids.length }).toEqual({
        path,
        events: userIds.length,
        requests: userIds.length,
      });
    }
    const rows = await a.sql(
      `SELECT d.state, d.attempts, COUNT(*) AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.endpoint_id IN (?, ?, ?) GROUP BY d.state, d.attempts`,
      endpoints.map((endpoint) => endpoint.id),
    );
    expect(rows.map((row) => [row.state, Number(row.attempts), Number(row.n)])).toEqual([
      ['DELIVERED', 1, userIds.length * endpoints.length],
    ]);
  }, 90_000);

  it('an endpoint added on one instance gets the events the other writes from then on, and a disabled one none', async () => {
    const UPDATE = 'mutation($id: ID!, $enabled: Boolean) { updateWebhookEndpoint(id: $id, enabled: $enabled) { id } }';
    await deleteEndpoints(a);
    const written = async (userId: string) =>
      Number((await a.sql('SELECT COUNT(*) AS n FROM webhook_events WHERE payload LIKE ?', [`%${userId}%`]))[0].n);
    const deliveredTo = async (endpointId: string, userId: string) => {
      const [row] = await a.sql(
        `SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
          WHERE d.endpoint_id = ? AND d.state = 'DELIVERED' AND e.payload LIKE ?`,
        [endpointId, `%${userId}%`],
      );
      return Number(row.n);
    };

    // What b's worker last saw of the endpoints is older than b may trust: b's writer asks the database.
    await createEndpoint(a, `${receiver.url}/codes`, ['recovery_codes.viewed']);
    a.clock.advance(LIMITS.webhookSubscribersCacheMs + 1);
    const before = uniqueId('before');
    await recordAudited(b, 'LOGIN_FAILED', before);
    expect(await written(before)).toBe(0);

    // Added on a: b's very next event of that type is written and delivered.
    const logins = await createEndpoint(a, `${receiver.url}/logins`, ['login.failed']);
    const after = uniqueId('after');
    await recordAudited(b, 'LOGIN_FAILED', after);
    expect(await written(after)).toBe(1);
    await settled(a, b);
    expect(await deliveredTo(logins.id, after)).toBe(1);
    expect(receiver.received.filter((request) => request.event.data.userId === after)).toHaveLength(1);

    // b's worker fans out an event of that type (a's is stopped meanwhile): b has seen that an endpoint takes it.
    // Then b's worker stops too, so nothing tells b otherwise until the end.
    const disabled = uniqueId('disabled');
    await a.app.webhooks.worker.stop(0);
    try {
      const seen = uniqueId('seen');
      await recordAudited(b, 'LOGIN_FAILED', seen);
      await b.app.webhooks.worker.settle();
      expect(await deliveredTo(logins.id, seen)).toBe(1);
      await b.app.webhooks.worker.stop(0);
      // Disabled on a while b still counts it as taking the type: b writes the event, nobody gets it.
      expect((await a.gql(UPDATE, { id: logins.id, enabled: false }, logins.admin)).errors).toBeUndefined();
      await recordAudited(b, 'LOGIN_FAILED', disabled);
      expect(await written(disabled)).toBe(1);
    } finally {
      a.app.webhooks.worker.start();
      b.app.webhooks.worker.start();
    }
    await settled(a, b);
    expect(await deliveredTo(logins.id, disabled)).toBe(0);
    expect(receiver.received.filter((request) => request.event.data.userId === disabled)).toEqual([]);
    // The fan-out found no endpoint that takes it any more: the row is gone.
    expect(await written(disabled)).toBe(0);
  });
});

async function deleteEndpoints(t: TestApp): Promise<void> {
  const admin = await t.token('ops-admin', ['twofactor:admin']);
  for (const { id } of (await t.gql('{ webhookEndpoints { id } }', {}, admin)).data.webhookEndpoints)
    await t.gql('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id }, admin);
}
