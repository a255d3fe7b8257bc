import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { LIMITS } from '../../src/limits';
import { readyz, sleep, timedGql } from '../support/faults';
import { freePort } from '../support/private-redis';
import { REDIS_URL } from '../support/services';
import {
  ASSERTION_SECRET,
  AUTH_SECRET,
  createTestDatabase,
  ENCRYPTION_KEY,
  startTestApp,
  type TestApp,
  uniqueId,
} from '../support/test-app';
import { PRIVATE_WEBHOOKS, recordAudited, settled, WebhookReceiver } from '../support/webhook-receiver';

/** Requests and the test wait on the services' own progress; this bounds only a hang (a loaded machine may take minutes). */
const NO_DEADLINE = 300_000;
const EVENTS = 12;

/**
 * At least once per endpoint across two instances and a crash: instance A (the
 * built service, dist/src/main.js, as a child process) fans the events out to
 * two endpoints, claiming each endpoint's share as it inserts the deliveries,
 * and is killed with SIGKILL while an attempt to each endpoint is in flight (the
 * receivers hold them open): its claims, and the outcomes it never got, are
 * lost with it. Instance B (in process, on the same database, its clock past
 * A's leases) then delivers every event to every endpoint.
 */
describe('webhooks: at least once per endpoint, across two instances and a crash', () => {
  const port = freePort(23600);
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-webhook-fan-out-crash-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let b: TestApp | undefined;
  const receivers: WebhookReceiver[] = [];
  let child: ChildProcess | undefined;
  let output = '';

  const killed = (process: ChildProcess) =>
    new Promise<NodeJS.Signals | null>((resolve) => {
      if (process.exitCode !== null || process.signalCode !== null) return resolve(process.signalCode);
      process.once('exit', (_code, signal) => resolve(signal));
      process.kill('SIGKILL');
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    for (let i = 0; i < 2; i += 1) receivers.push(await WebhookReceiver.start());
  });
  afterAll(async () => {
    if (child) await killed(child);
    await b?.close();
    for (const receiver of receivers) await receiver.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every event to every endpoint after the instance that claimed them died', async () => {
    child = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database!.url,
        REDIS_URL,
        PORT: String(port),
        HOST: '127.0.0.1',
        AUTH_JWT_SECRET: AUTH_SECRET,
        ASSERTION_JWT_SECRET: ASSERTION_SECRET,
        ENCRYPTION_KEY,
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        AWS_EC2_METADATA_DISABLED: 'true',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        WEBHOOK_POLL_INTERVAL_MS: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const a = child;
    process.once('exit', () => a.kill('SIGKILL'));
    a.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    a.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (;;) {
      if (a.exitCode !== null) throw new Error(`exited with ${a.exitCode}:\n${output}`);
      if ((await readyz(url)).status === 200) break;
      await sleep(100);
    }

    // Both receivers accept A's attempts and never answer them.
    for (const receiver of receivers) receiver.hang = true;
    const admin = await signDevelopmentToken(AUTH_SECRET, 'ops-admin', ['twofactor:admin']);
    const endpointIds: string[] = [];
    for (const receiver of receivers) {
      const created = await timedGql(
        url,
        'createWebhookEndpoint',
        'mutation($url: String!) { createWebhookEndpoint(url: $url, eventTypes: ["login.failed"]) { endpoint { id } } }',
        { url: receiver.url },
        { token: admin, timeoutMs: NO_DEADLINE },
      );
      expect(created.errors).toBeUndefined();
      endpointIds.push(created.data.createWebhookEndpoint.endpoint.id);
    }

    // B writes the events (as requests to it would); its own worker waits until A is dead.
    b = await startTestApp({ env: PRIVATE_WEBHOOKS, databaseUrl: database!.url });
    await b.app.webhooks.worker.stop(0);
    const userIds = Array.from({ length: EVENTS }, () => uniqueId('crash'));
    for (const userId of userIds) await recordAudited(b, 'LOGIN_FAILED', userId);

    // A fans them out and sends: killed while an attempt to each endpoint is in flight.
    for (const receiver of receivers) await receiver.until(() => receiver.open >= 1);
    expect(await killed(a)).toBe('SIGKILL');
    const sentByA = receivers.map((receiver) => receiver.received.map((request) => request.id));
    const [leased] = await b.sql(
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'PENDING' AND lease_token IS NOT NULL",
    );
    // At least the two in flight; what A had not fanned out yet (it polls as B writes) waits in the outbox.
    expect(Number(leased.n)).toBeGreaterThanOrEqual(2);

    // B, once A's leases have lapsed by its clock.
    for (const receiver of receivers) receiver.hang = false;
    b.clock.set(new Date(Date.now() + LIMITS.webhookLeaseSeconds * 1000 + 1_000));
    b.app.webhooks.worker.start();
    await settled(b);

    for (const [index, receiver] of receivers.entries()) {
      // Every event reached every endpoint, and what A had sent without an answer was sent again.
      expect(new Set(receiver.received.map((request) => request.event.data.userId))).toEqual(new Set(userIds));
      const later = receiver.received.slice(sentByA[index].length).map((request) => request.id);
      for (const id of sentByA[index]) expect(later).toContain(id);
    }
    const rows = await b.sql(
      'SELECT endpoint_id, state, COUNT(*) AS n FROM webhook_deliveries GROUP BY endpoint_id, state',
    );
    expect(rows.map((row) => [row.endpoint_id, row.state, Number(row.n)]).sort()).toEqual(
      endpointIds.map((id) => [id, 'DELIVERED', EVENTS]).sort(),
    );
  }, 300_000);
});
