import { LIMITS } from '../../src/limits';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, PRIVATE_WEBHOOKS, recordAudited, WebhookReceiver } from '../support/webhook-receiver';

/**
 * A worker with every slot busy does not sleep until its next poll: each attempt
 * that ends starts the next round. Here the next poll is a minute away, so only
 * that can deliver the events beyond the first round in time.
 */
describe('webhooks: a worker with no room left', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...PRIVATE_WEBHOOKS, WEBHOOK_POLL_INTERVAL_MS: '60000' } });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('claims the next round as soon as an attempt ends, not at the next poll', async () => {
    await createEndpoint(t, receiver.url, ['login.failed']);
    const events = 3 * LIMITS.webhookMaxInFlight;
    for (let i = 0; i < events; i += 1) await recordAudited(t, 'LOGIN_FAILED', uniqueId('full'));
    // The first round by hand (the worker polled at start, before these events).
    expect(await t.app.webhooks.worker.runOnce()).toBe(LIMITS.webhookMaxInFlight);
    const delivered = await receiver.waitFor(events, (request) => request.event.type === 'login.failed', 15_000);
    expect(new Set(delivered.map((request) => request.id)).size).toBe(events);
  });
});
