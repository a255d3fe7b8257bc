import { LIMITS } from '../../src/limits';
import { watchPool } from '../support/round-trips';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, PRIVATE_WEBHOOKS, recordAudited, WebhookReceiver } from '../support/webhook-receiver';

/**
 * The outbox holds one row per event, whatever the number of endpoints; the
 * worker fans it out when it delivers (docs/adr/0019-outbox-one-row-per-event.md).
 * The worker runs only when a test asks (settle), so what a change sends and
 * what the worker does are told apart.
 */
describe('webhooks: one outbox row per event, fanned out by the worker', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  const sql: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: PRIVATE_WEBHOOKS, manualBackgroundWork: true });
    receiver = await WebhookReceiver.start();
    for (const source of t.app.database.sources) watchPool(source, sql);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });
  afterEach(async () => {
    const admin = await t.token('ops-admin', ['twofactor:admin']);
    for (const { id } of (await t.gql('{ webhookEndpoints { id } }', {}, admin)).data.webhookEndpoints)
      await t.gql('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id }, admin);
  });

  /** The webhook tables a piece of work named, statement by statement (a batch is split at its `;`). */
  async function tablesTouchedBy(work: () => Promise<unknown>): Promise<string[][]> {
    sql.length = 0;
    await work();
    return sql
      .flatMap((batch) => batch.split(';'))
      .map((statement) => statement.match(/\bwebhook_(?:events|endpoints|deliveries|locks)\b/g) ?? [])
      .filter((tables) => tables.length > 0);
  }

  const eventsOf = async (userId: string) =>
    t.sql('SELECT id, fanned_out FROM webhook_events WHERE payload LIKE ?', [`%${userId}%`]);
  const deliveriesOf = async (userId: string) =>
    t.sql(
      `SELECT d.endpoint_id, d.state, d.attempts FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE e.payload LIKE ? ORDER BY d.endpoint_id`,
      [`%${userId}%`],
    );

  it(`writes one row per event with ${LIMITS.webhookMaxEndpoints} endpoints, and no delivery; the worker makes and sends each`, async () => {
    const endpoints = [];
    for (let i = 0; i < LIMITS.webhookMaxEndpoints; i += 1)
      endpoints.push(await createEndpoint(t, `${receiver.url}/${i}`, i % 2 === 0 ? [] : ['login.failed']));
    const ids = endpoints.map((endpoint) => endpoint.id).sort();

    // This instance's worker has not seen the endpoints yet: the one INSERT asks the database itself.
    const first = uniqueId('first');
    expect(await tablesTouchedBy(() => recordAudited(t, 'LOGIN_FAILED', first))).toEqual([
      ['webhook_events', 'webhook_endpoints'],
    ]);
    expect((await eventsOf(first)).map((row) => Number(row.fanned_out))).toEqual([0]);
    expect(await deliveriesOf(first)).toEqual([]);

    await t.app.webhooks.worker.settle();
    expect((await eventsOf(first)).map((row) => Number(row.fanned_out))).toEqual([1]);
    const delivered = await deliveriesOf(first);
    expect(delivered.map((row) => row.endpoint_id)).toEqual(ids);
    expect(new Set(delivered.map((row) => `${row.state} ${row.attempts}`))).toEqual(new Set(['DELIVERED 1']));
    const requests = receiver.received.filter((request) => request.event.data.userId === first);
    expect(new Set(requests.map((request) => request.path)).size).toBe(LIMITS.webhookMaxEndpoints);
    expect(new Set(requests.map((request) => request.id)).size).toBe(1);

    // Its worker has seen them: a plain INSERT, the endpoints not named at all.
    const second = uniqueId('second');
    expect(await tablesTouchedBy(() => recordAudited(t, 'LOGIN_FAILED', second))).toEqual([['webhook_events']]);
    expect(sql.join('\n')).toMatch(/INSERT INTO webhook_events \(webhook_id, type, payload, created_at\) VALUES/);
    expect(await eventsOf(second)).toHaveLength(1);
    expect(await deliveriesOf(second)).toEqual([]);
    await t.app.webhooks.worker.settle();
    expect(await deliveriesOf(second)).toHaveLength(LIMITS.webhookMaxEndpoints);

    // A type only half of them take: the other half get no delivery of it.
    const viewed = uniqueId('viewed');
    await recordAudited(t, 'RECOVERY_CODES_VIEWED', viewed);
    expect(await eventsOf(viewed)).toHaveLength(1);
    await t.app.webhooks.worker.settle();
    expect((await deliveriesOf(viewed)).map((row) => row.endpoint_id)).toEqual(
      endpoints
        .filter((_, i) => i % 2 === 0)
        .map((endpoint) => endpoint.id)
        .sort(),
    );
  });

  it('writes nothing while no enabled endpoint takes the type', async () => {
    await createEndpoint(t, receiver.url, ['recovery_codes.viewed']);
    await t.app.webhooks.worker.settle();
    const userId = uniqueId('nobody');
    await recordAudited(t, 'LOGIN_FAILED', userId);
    expect(await eventsOf(userId)).toEqual([]);
  });

  it('delivers an event whose change commits after a later event was delivered', async () => {
    await createEndpoint(t, receiver.url);
    const early = uniqueId('early');
    const late = uniqueId('late');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const insertedEarly = new Promise<void>((resolve) => (inserted = resolve));
    const slow = t.app.database.transaction(async (manager) => {
      await t.app.webhooks.events.recorded(
        manager,
        { actorId: early, clientIp: '127.0.0.1' },
        { action: 'LOGIN_FAILED', userId: early },
        t.clock.now(),
      );
      // The INSERT reaches the server now (the event's id is taken); the COMMIT only once released.
      await t.app.database.read(manager, [{ sql: 'SELECT 1 AS one', parameters: [] }]);
      inserted();
      await gate;
    });
    await insertedEarly;
    await recordAudited(t, 'LOGIN_FAILED', late);
    await t.app.webhooks.worker.settle();
    const about = (userId: string) => receiver.received.filter((request) => request.event.data.userId === userId);
    expect(about(late)).toHaveLength(1);
    expect(about(early)).toHaveLength(0);

    release();
    await slow;
    const [earlyEvent] = await eventsOf(early);
    const [lateEvent] = await eventsOf(late);
    // The order a "last id seen" cursor would trip on: the earlier id committed after the later one was sent.
    expect(Number(earlyEvent.id)).toBeLessThan(Number(lateEvent.id));
    await t.app.webhooks.worker.settle();
    expect(about(early)).toHaveLength(1);
    expect(about(late)).toHaveLength(1);
  });
});

/**
 * Claims waiting here for a slot go out as their endpoint is at the last round:
 * none once it is disabled. The receiver holds its first attempts open (they
 * time out only after an hour), so the others wait; the endpoint is disabled;
 * a round runs; then the held attempts are answered, and nothing more comes.
 */
describe('webhooks: claims waiting for a slot when their endpoint is disabled', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({
      env: PRIVATE_WEBHOOKS,
      manualBackgroundWork: true,
      webhooks: { attemptTimeoutMs: 3600_000 },
    });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  it('are not sent', async () => {
    receiver.hang = true;
    const endpoint = await createEndpoint(t, receiver.url, ['login.failed']);
    for (let i = 0; i < 3 * LIMITS.webhookMaxInFlightPerEndpoint; i += 1)
      await recordAudited(t, 'LOGIN_FAILED', uniqueId('waiting'));
    const claimed = await t.app.webhooks.worker.runOnce();
    expect(claimed).toBe(LIMITS.webhookMaxInFlightPerEndpoint + LIMITS.webhookClaimedAheadPerEndpoint);
    await receiver.until(() => receiver.open === LIMITS.webhookMaxInFlightPerEndpoint);

    const disabled = await t.gql(
      'mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: false) { enabled } }',
      { id: endpoint.id },
      endpoint.admin,
    );
    expect(disabled.errors).toBeUndefined();
    await t.app.webhooks.worker.runOnce();
    receiver.release();
    await t.app.webhooks.worker.settle();
    expect(receiver.received).toHaveLength(LIMITS.webhookMaxInFlightPerEndpoint);
    // The four answered are delivered (they did arrive); everything else failed with the endpoint.
    const rows = await t.sql(
      'SELECT state, COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? GROUP BY state ORDER BY state',
      [endpoint.id],
    );
    expect(rows.map((row) => [row.state, Number(row.n)])).toEqual([
      ['DELIVERED', LIMITS.webhookMaxInFlightPerEndpoint],
      ['FAILED', 2 * LIMITS.webhookMaxInFlightPerEndpoint],
    ]);
  });
});
