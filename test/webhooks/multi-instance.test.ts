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

  it('an endpoint added or disabled on one instance counts on the other within a second, and a disabled one is never queued', async () => {
    const UPDATE = 'mutation($id: ID!, $enabled: Boolean) { updateWebhookEndpoint(id: $id, enabled: $enabled) { id } }';
    const emitOn = async (t: TestApp) => {
      const userId = uniqueId('cache');
      await recordAudited(t, 'LOGIN_FAILED', userId);
      return userId;
    };
    const queuedFor = async (endpointId: string, userId: string) => {
      const [row] = await a.sql(
        'SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.endpoint_id = ? AND e.payload LIKE ?',
        [endpointId, `%${userId}%`],
      );
      return Number(row.n);
    };
    const first = await createEndpoint(a, receiver.url);
    // a's own change counts on a at once; b reads the endpoints afresh once its list is a second old.
    expect(await queuedFor(first.id, await emitOn(a))).toBe(1);
    a.clock.advance(1_001);
    expect(await queuedFor(first.id, await emitOn(b))).toBe(1);

    // Disabled on a while b still holds its list: b queues nothing for it.
    expect((await a.gql(UPDATE, { id: first.id, enabled: false }, first.admin)).errors).toBeUndefined();
    expect(await queuedFor(first.id, await emitOn(b))).toBe(0);

    // Added on a: b may miss it for up to a second, never longer.
    const second = await createEndpoint(a, receiver.url);
    a.clock.advance(1_001);
    expect(await queuedFor(second.id, await emitOn(b))).toBe(1);
    expect(await queuedFor(first.id, await emitOn(b))).toBe(0);
  });
});
