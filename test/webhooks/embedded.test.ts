import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type App, createApp } from '../../src/app';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { loadConfig } from '../../src/config/config';
import { ManualClock } from '../../src/infra/clock';
import { eventually } from '../support/eventually';
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

    await receiver.waitFor(2);
    await eventually(async () => (await deliveries(endpointId, admin)).some((d: any) => d.lastStatus === 500));
    clock.advance(6_001);
    await receiver.waitFor(3);
    await eventually(async () => (await deliveries(endpointId, admin)).every((d: any) => d.state === 'DELIVERED'));
    const listed = await deliveries(endpointId, admin);
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
});
