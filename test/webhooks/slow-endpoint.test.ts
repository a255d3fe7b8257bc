import { LIMITS } from '../../src/limits';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, PRIVATE_WEBHOOKS, recordAudited, WebhookReceiver } from '../support/webhook-receiver';

const EVENTS = 100;

/**
 * Contract: an endpoint that is slow, hangs or fails delays only its own
 * deliveries. A receiver that accepts every request and never answers sits
 * beside a healthy one. Attempts here time out only after an hour, so nothing
 * the healthy endpoint gets can be owed to the hanging one's attempts ending:
 * all of it arrives while the hanging one still holds its first requests open.
 */
describe('webhooks: an endpoint that hangs', () => {
  let t: TestApp;
  let healthy: WebhookReceiver;
  let hanging: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({ env: PRIVATE_WEBHOOKS, webhooks: { attemptTimeoutMs: 3600_000 } });
    healthy = await WebhookReceiver.start();
    hanging = await WebhookReceiver.start();
    hanging.hang = true;
  });
  afterAll(async () => {
    // Closed first: its open attempts end (connection reset) and the app stops without waiting for them.
    await hanging?.close();
    await healthy?.close();
    await t?.close();
  });

  it(`delays no other endpoint: all ${EVENTS} events reach the healthy one while it holds its own slots`, async () => {
    const { id: hangingId } = await createEndpoint(t, hanging.url, ['login.failed']);
    await createEndpoint(t, healthy.url, ['login.failed']);
    const userIds = new Set<string>();
    for (let i = 0; i < EVENTS; i += 1) {
      const userId = uniqueId('slow');
      userIds.add(userId);
      await recordAudited(t, 'LOGIN_FAILED', userId);
    }
    // Whichever comes first: every event at the healthy receiver, or a hanging attempt given up.
    const first = await Promise.race([
      healthy.until(() => healthy.received.length >= EVENTS).then(() => 'the healthy endpoint got every event'),
      hanging.until(() => hanging.abandoned > 0).then(() => 'a hanging attempt ended first'),
    ]);
    expect({ first, healthy: healthy.received.length }).toEqual({
      first: 'the healthy endpoint got every event',
      healthy: EVENTS,
    });
    expect(new Set(healthy.received.map((request) => request.event.data.userId))).toEqual(userIds);
    // The hanging endpoint has its own slots filled, no more, and none of its attempts ended.
    await hanging.until(() => hanging.open >= LIMITS.webhookMaxInFlightPerEndpoint);
    expect({ open: hanging.open, received: hanging.received.length, abandoned: hanging.abandoned }).toEqual({
      open: LIMITS.webhookMaxInFlightPerEndpoint,
      received: LIMITS.webhookMaxInFlightPerEndpoint,
      abandoned: 0,
    });

    // Stopping gives back every claim of the hanging endpoint, those in flight and those waiting for a slot:
    // all due again, their attempts not counted.
    await t.app.webhooks.worker.stop(0);
    const [claimed] = await t.sql(
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND (attempts <> 0 OR next_attempt_at > ? OR state <> 'PENDING')",
      [hangingId, t.clock.now()],
    );
    expect(Number(claimed.n)).toBe(0);
  });
});
