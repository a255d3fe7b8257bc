import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { readyz, sleep, timedGql } from '../support/faults';
import { freePort } from '../support/private-redis';
import { REDIS_URL } from '../support/services';
import { ASSERTION_SECRET, AUTH_SECRET, createTestDatabase, ENCRYPTION_KEY } from '../support/test-app';
import { totpCodeAt } from '../support/totp';
import { WebhookReceiver } from '../support/webhook-receiver';

/** Requests and the test wait on the service's own progress; this bounds only a hang (a loaded machine may take minutes). */
const NO_DEADLINE = 300_000;

/**
 * The built service as a child process (dist/src/main.js), killed with SIGKILL
 * right after a change committed, before its worker could send the event; started
 * again on the same database, it sends it.
 */
describe('webhooks: SIGKILL right after a commit', () => {
  const port = freePort(23500);
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-webhook-crash-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let receiver: WebhookReceiver;
  const children: ChildProcess[] = [];
  let output = '';

  async function startService(pollIntervalMs: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['dist/src/main.js'], {
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
        WEBHOOK_POLL_INTERVAL_MS: String(pollIntervalMs),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    process.once('exit', () => child.kill('SIGKILL'));
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Until it is ready or has exited: its own progress, however long a loaded machine takes to start it.
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output}`);
      if ((await readyz(url)).status === 200) return child;
      await sleep(100);
    }
  }

  const killed = (child: ChildProcess) =>
    new Promise<NodeJS.Signals | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.signalCode);
      child.once('exit', (_code, signal) => resolve(signal));
      child.kill('SIGKILL');
    });

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    for (const child of children) await killed(child);
    await receiver?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // 300 s (NO_DEADLINE): a bound for a hang only.
  it('sends the event once started again', async () => {
    // Polls once at start, then not for a minute, so nothing is sent before the kill. However slow the
    // machine, nothing can arrive before it either: the receiver is closed until then (an attempt made
    // anyway is refused, and the event stays in the outbox for the next instance).
    await receiver.close();
    const first = await startService(60_000);
    const admin = await signDevelopmentToken(AUTH_SECRET, 'ops-admin', ['twofactor:admin']);
    const created = await timedGql(
      url,
      'createWebhookEndpoint',
      'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret endpoint { id } } }',
      { url: receiver.url },
      { token: admin, timeoutMs: NO_DEADLINE },
    );
    expect(created.errors).toBeUndefined();
    const secret = created.data.createWebhookEndpoint.secret;

    const userId = `crash-${process.pid}`;
    const token = await signDevelopmentToken(AUTH_SECRET, userId, [], { authTime: new Date() });
    const started = await timedGql(
      url,
      'startTotpSetup',
      'mutation { startTotpSetup { secret } }',
      {},
      { token, timeoutMs: NO_DEADLINE },
    );
    const confirmed = await timedGql(
      url,
      'confirmTotpSetup',
      'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }',
      { c: totpCodeAt(started.data.startTotpSetup.secret, new Date()) },
      { token, timeoutMs: NO_DEADLINE },
    );
    // Committed (the answer came back), and killed at once.
    expect(confirmed.data.confirmTotpSetup.status.enabled).toBe(true);
    expect(await killed(first)).toBe('SIGKILL');
    expect(receiver.received).toHaveLength(0);

    await receiver.reopen();
    await startService(50);
    // Another process: what its worker has done shows at the receiver, which this waits on.
    const requests = await receiver.waitFor(2);
    expect(requests.map((request) => request.event.type).sort()).toEqual(['factor.added', 'two_factor.enabled']);
    for (const request of requests) {
      expect(request.event.data.userId).toBe(userId);
      expect(WebhookReceiver.verify(secret, request)).toEqual(request.event);
    }
  }, 300_000);
});
