import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type App, createApp } from '../../src/app';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { loadConfig } from '../../src/config/config';
import { ManualClock } from '../../src/infra/clock';
import { LIMITS } from '../../src/limits';
import { totpCodeAt } from '../support/totp';
import { WebhookReceiver } from '../support/webhook-receiver';

/** The embedded default (SQLite through sql.js, one process) delivers from its outbox with one in-process worker. */
describe('webhooks: the embedded default', () => {
  const clock = new ManualClock(new Date());
  const config = loadConfig({
    DATA_DIR: mkdtempSync(join(tmpdir(), 'tf-embedded-webhooks-')),
    LOG_LEVEL: 'silent',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '50',
  });
  let app: App;
  let url: string;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    app = await createApp(config, { clock, logger: pino({ level: 'silent' }) });
    await app.fastify.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.fastify.server.address() as { port: number }).port}`;
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string): Promise<any> => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  };
  const token = (subject: string, scopes: string[] = []) =>
    signDevelopmentToken(config.auth.jwtSecret!, subject, scopes, { authTime: clock.now() });
  const deliveries = async (endpointId: string, admin: string) =>
    (
      await gql(
        'query($e: ID!) { webhookDeliveries(endpointId: $e) { edges { node { id eventId state attempts lastStatus } } } }',
        { e: endpointId },
        admin,
      )
    ).data.webhookDeliveries.edges.map((edge: any) => edge.node);

  it('delivers, retries and purges from SQLite', async () => {
    const admin = await token('ops-admin', ['twofactor:admin']);
    const created = await gql(
      'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret endpoint { id } } }',
      { url: receiver.url },
      admin,
    );
    const { secret } = created.data.createWebhookEndpoint;
    const endpointId = created.data.createWebhookEndpoint.endpoint.id;
    receiver.respond = (_request, index) => (index === 0 ? 500 : 200);

    const user = await token('embedded-user');
    const totp = (await gql('mutation { startTotpSetup { secret } }', {}, user)).data.startTotpSetup.secret;
    const confirmed = await gql(
      'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }',
      { c: totpCodeAt(totp, clock.now()) },
      user,
    );
    expect(confirmed.data.confirmTotpSetup.status.enabled).toBe(true);

    // Waits follow the worker's own progress (all that is due attempted, outcomes recorded), not the clock.
    await app.webhooks.worker.settle();
    expect(receiver.received).toHaveLength(2);
    expect((await deliveries(endpointId, admin)).map((d: any) => d.lastStatus).sort()).toEqual([200, 500]);
    clock.advance(6_001);
    await app.webhooks.worker.settle();
    expect(receiver.received).toHaveLength(3);
    const listed = await deliveries(endpointId, admin);
    expect(listed.map((d: any) => d.state)).toEqual(['DELIVERED', 'DELIVERED']);
    expect(listed.map((d: any) => d.attempts).sort()).toEqual([1, 2]);
    // The one answered 500 came again, with the same webhook-id.
    expect(receiver.received.filter((request) => request.id === receiver.received[0].id)).toHaveLength(2);
    expect([...new Set(receiver.received.map((request) => request.event.type))].sort()).toEqual([
      'factor.added',
      'two_factor.enabled',
    ]);
    for (const request of receiver.received) expect(WebhookReceiver.verify(secret, request)).toEqual(request.event);

    clock.advance(31 * 24 * 3600_000);
    expect(await app.webhooks.purger.runOnce()).toEqual({ deliveries: 2, events: 2 });
    expect(await deliveries(endpointId, admin)).toEqual([]);
  });

  it('creates at most 20 endpoints from parallel requests, and runs parallel rotations one after another', async () => {
    const admin = await token('ops-admin', ['twofactor:admin']);
    // The first test's endpoint counts: 19 more fit.
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        gql(
          'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret endpoint { id } } }',
          { url: `${receiver.url}/${i}` },
          admin,
        ),
      ),
    );
    expect((await gql('{ webhookEndpoints { id } }', {}, admin)).data.webhookEndpoints).toHaveLength(
      LIMITS.webhookMaxEndpoints,
    );
    const index = results.findIndex((result) => !result.errors);
    expect(results.filter((result) => !result.errors)).toHaveLength(LIMITS.webhookMaxEndpoints - 1);

    const { secret: original, endpoint } = results[index].data.createWebhookEndpoint;
    const rotations = await Promise.all(
      [1, 2, 3].map(() =>
        gql('mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id: endpoint.id }, admin),
      ),
    );
    const secrets: string[] = rotations.map((result) => result.data.rotateWebhookSecret.secret);
    const userId = 'embedded-rotated';
    await app.database.transaction((manager) =>
      app.webhooks.events.recorded(
        manager,
        { actorId: userId, clientIp: null },
        { action: 'LOGIN_FAILED', userId },
        clock.now(),
      ),
    );
    await app.webhooks.worker.settle();
    const [request] = receiver.received.filter(
      (received) => received.path === `/hooks/${index}` && received.event.data.userId === userId,
    );
    const signing = [original, ...secrets].filter((secret) => {
      try {
        return WebhookReceiver.verify(secret, request) !== undefined;
      } catch {
        return false;
      }
    });
    // One after another: the last one's secret and the one it replaced (the second's).
    expect(signing).toHaveLength(2);
    expect(signing).not.toContain(original);
  });
});
