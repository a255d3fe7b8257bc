// The outbox and a live receiver under the bench's load (BENCH_WEBHOOKS, default on):
// an endpoint for every event type, registered through the API, delivering to a
// receiver process on loopback that verifies each signature. Login verifications
// then write one outbox row in their transaction (ADR 0019), and every instance's
// worker fans it out and sends it while the scenarios run.
import { join } from 'node:path';
import { freePort, startNode, waitForHttp } from './processes.mjs';

/** The service needs this to deliver to a receiver on 127.0.0.1 (http, loopback). */
export const WEBHOOK_SERVICE_ENV = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };

/**
 * Registers the endpoint (admin token `adminToken`), then starts the receiver with
 * its secret; returns the receiver process and a function that reads what it got.
 */
export async function startWebhookReceiver({ root, serviceUrl, adminToken, env, logFile }) {
  const port = await freePort();
  const created = await fetch(`${serviceUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: 'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret endpoint { id url } } }',
      variables: { url: `http://127.0.0.1:${port}/hooks` },
    }),
  }).then((response) => response.json());
  if (created.errors) throw new Error(`registering the webhook endpoint: ${JSON.stringify(created.errors)}`);
  const { secret, endpoint } = created.data.createWebhookEndpoint;
  const receiver = startNode('webhook receiver', join(root, 'bench/baselines/webhook-receiver.mjs'), {
    cwd: root,
    port,
    logFile,
    env: { ...env, WEBHOOK_SECRET: secret },
  });
  await waitForHttp(receiver, '/stats');
  return {
    receiver,
    endpoint,
    /** What the receiver got, and what the service still has queued (from its /metrics). */
    async summary() {
      const stats = await fetch(`${receiver.url}/stats`).then((response) => response.json());
      const metrics = await fetch(`${serviceUrl}/metrics`).then((response) => response.text());
      const metric = (pattern) => Number(pattern.exec(metrics)?.[1] ?? NaN);
      return {
        endpoint: endpoint.url,
        ...stats,
        serviceDelivered: metric(/^webhook_deliveries_total\{outcome="delivered"\} (\S+)$/m),
        serviceRetried: metric(/^webhook_deliveries_total\{outcome="retried"\} (\S+)$/m),
        oldestPendingSeconds: metric(/^webhook_oldest_pending_event_age_seconds (\S+)$/m),
      };
    },
  };
}
