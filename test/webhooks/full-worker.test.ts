import { LIMITS } from '../../src/limits';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, PRIVATE_WEBHOOKS, recordAudited, WebhookReceiver } from '../support/webhook-receiver';

const ENDPOINTS = '{ webhookEndpoints { id } }';
const DELETE = 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }';

/** What a round claims of one endpoint: its slots, and as many waiting for one. */
const CLAIMED = LIMITS.webhookMaxInFlightPerEndpoint + LIMITS.webhookClaimedAheadPerEndpoint;

/**
 * A worker that has claimed all it may for what is due (an endpoint's slots and
 * those waiting for one, or every endpoint's) does not sleep until its next
 * poll: each attempt that ends starts the next round. Here the next poll is an hour away, so only that
 * can deliver what the first round had no room for; the waits follow the
 * receiver, and the test's time-out (far below an hour) is the only bound.
 */
describe('webhooks: a worker with no room left', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({ env: PRIVATE_WEBHOOKS, webhooks: { pollIntervalMs: 3600_000 } });
    receiver = await WebhookReceiver.start();
    admin = await t.token('ops-admin', ['twofactor:admin']);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });
  afterEach(async () => {
    for (const { id } of (await t.gql(ENDPOINTS, {}, admin)).data.webhookEndpoints) await t.gql(DELETE, { id }, admin);
  });

  /** `count` events, each its own transaction; the filter that picks their requests. */
  async function emit(count: number): Promise<(request: { event: { data: Record<string, unknown> } }) => boolean> {
    const userIds = new Set<string>();
    for (let i = 0; i < count; i += 1) {
      const userId = uniqueId('full');
      userIds.add(userId);
      await recordAudited(t, 'LOGIN_FAILED', userId);
    }
    return (request) => userIds.has(String(request.event.data.userId));
  }

  it("claims an endpoint's next delivery as soon as one of its attempts ends, not at the next poll", async () => {
    await createEndpoint(t, receiver.url, ['login.failed']);
    const events = 3 * CLAIMED;
    const ours = await emit(events);
    // The first round by hand (the worker polled at start, before these events): what the endpoint may claim, no more.
    expect(await t.app.webhooks.worker.runOnce()).toBe(CLAIMED);
    const delivered = await receiver.waitFor(events, ours);
    expect(new Set(delivered.map((request) => request.id)).size).toBe(events);
  });

  it('claims the next round as soon as an attempt ends when every slot is taken', async () => {
    for (let i = 0; i < LIMITS.webhookMaxEndpoints; i += 1)
      await createEndpoint(t, `${receiver.url}/${i}`, ['login.failed']);
    const events = 2 * CLAIMED;
    const ours = await emit(events);
    expect(await t.app.webhooks.worker.runOnce()).toBe(CLAIMED * LIMITS.webhookMaxEndpoints);
    const delivered = await receiver.waitFor(events * LIMITS.webhookMaxEndpoints, ours);
    expect(new Set(delivered.map((request) => `${request.id} ${request.path}`)).size).toBe(
      events * LIMITS.webhookMaxEndpoints,
    );
  });
});
