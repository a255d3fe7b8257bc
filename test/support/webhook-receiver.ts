import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { TestApp } from './test-app';

export interface Received {
  /** The request's path (one receiver may stand for several endpoints). */
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  headers: Record<string, string>;
  /** The body parsed: { type, timestamp, data }. */
  event: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** What the receiver answers: a status (and headers), decided per request. */
export type Responder = (
  request: Received,
  index: number,
) => number | { status: number; headers?: Record<string, string> };

/**
 * A webhook receiver on 127.0.0.1 (node:http): records every request, answers
 * what `respond` says (200 by default). `close()` then `reopen()` keeps its port.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  respond: Responder = () => 200;
  /** How long each answer takes. */
  delayMs = 0;
  /** Accepts each request and never answers it (until closed). */
  hang = false;
  /** Requests not answered yet whose connection is still open. */
  open = 0;
  /** Requests whose connection the sender closed before an answer (e.g. its time-out). */
  abandoned = 0;
  /** The requests held open while hanging, to answer on release(). */
  private readonly held = new Set<ServerResponse>();
  private server: Server | undefined;
  port = 0;
  /** Checks of `until`, looked at again on every change. */
  private readonly watchers = new Set<() => void>();

  static async start(respond?: Responder): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    if (respond) receiver.respond = respond;
    await receiver.listen(0);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Requests whose body has this type. */
  ofType(type: string): Received[] {
    return this.received.filter((request) => request.event.type === type);
  }

  /**
   * The requests that pass `filter`, once there are `count` of them: for senders
   * this test cannot ask (another process). In-process, `settled` is better: it
   * knows when nothing more is coming.
   */
  async waitFor(count: number, filter: (request: Received) => boolean = () => true): Promise<Received[]> {
    await this.until(() => this.received.filter(filter).length >= count);
    return this.received.filter(filter);
  }

  /**
   * Resolves once `check` holds, looked at again on every request and every
   * connection closed unanswered: it follows the receiver's own progress, with
   * no deadline of its own (the test's time-out bounds it).
   */
  until(check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve) => {
      const watcher = () => {
        if (!check()) return;
        this.watchers.delete(watcher);
        resolve();
      };
      this.watchers.add(watcher);
    });
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Verifies a request as a receiver would, with the standardwebhooks library; returns the parsed body. */
  static verify(secret: string, request: Received): unknown {
    return new Webhook(secret).verify(request.body, {
      'webhook-id': request.id,
      'webhook-timestamp': request.timestamp,
      'webhook-signature': request.signature,
    });
  }

  /** Stops hanging: the requests held open get their answer now (200), and later ones at once. */
  release(): void {
    this.hang = false;
    for (const response of this.held) {
      this.held.delete(response);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async reopen(): Promise<void> {
    await this.listen(this.port);
  }

  private listen(port: number): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    server.keepAliveTimeout = 1_000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : String(value),
        ]),
      );
      let event: Received['event'];
      try {
        event = JSON.parse(body);
      } catch {
        event = { type: '(not JSON)', timestamp: '', data: {} };
      }
      const received: Received = {
        path: request.url ?? '',
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        headers,
        event,
      };
      this.received.push(received);
      if (this.hang) {
        this.open += 1;
        this.held.add(response);
        response.once('close', () => {
          this.open -= 1;
          // Closed before release() answered it: the sender gave up (or the receiver closed).
          if (this.held.delete(response) && this.server) this.abandoned += 1;
          this.changed();
        });
        this.changed();
        return;
      }
      this.changed();
      const answer = this.respond(received, this.received.length - 1);
      const { status, headers: extra } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      setTimeout(() => {
        response.writeHead(status, { 'content-type': 'text/plain', ...extra });
        response.end('ok');
      }, this.delayMs);
    });
  }
}

/** An admin's token, and an endpoint registered through the API for `url`. */
export async function createEndpoint(
  t: TestApp,
  url: string,
  eventTypes?: string[],
): Promise<{ id: string; secret: string; admin: string }> {
  const admin = await t.token('ops-admin', ['twofactor:admin']);
  const result = await t.gql(
    'mutation($url: String!, $types: [String!]) { createWebhookEndpoint(url: $url, eventTypes: $types) { secret endpoint { id } } }',
    { url, types: eventTypes ?? null },
    admin,
  );
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return { id: result.data.createWebhookEndpoint.endpoint.id, secret: result.data.createWebhookEndpoint.secret, admin };
}

/** The endpoint's deliveries as the admin API lists them (newest first). */
export async function deliveriesOf(t: TestApp, endpointId: string, admin: string, state?: string) {
  const result = await t.gql(
    `query($e: ID!, $s: WebhookDeliveryState) { webhookDeliveries(endpointId: $e, state: $s, first: 100) {
       edges { node { id eventId eventType state attempts lastStatus lastError nextAttemptAt deliveredAt createdAt } }
     } }`,
    { e: endpointId, s: state ?? null },
    admin,
  );
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.webhookDeliveries.edges.map((edge: any) => edge.node) as any[];
}

/**
 * Until the instances' workers have fanned out every event, attempted
 * everything due by the clock's now, and recorded every outcome
 * (DeliveryWorker.settle): the system's own progress, however slow the machine.
 * Then what the receivers got is all they will get until the clock moves or
 * something new is written. Instances on one database: each settles, then
 * nothing may be left to fan out or due in the database while every worker is
 * quiet (one's background round may claim after another settled).
 */
export async function settled(...apps: TestApp[]): Promise<void> {
  const [first] = apps;
  for (;;) {
    await Promise.all(apps.map((t) => t.app.webhooks.worker.settle()));
    if (apps.length === 1) return;
    const [due] = await first.sql(
      `SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'PENDING' AND next_attempt_at <= ?)
            + (SELECT COUNT(*) FROM webhook_events WHERE fanned_out = 0) AS n`,
      [first.clock.now()],
    );
    // Read first, then every worker looked at in one go: a claim under way is a round running.
    if (Number(due.n) === 0 && apps.every((t) => t.app.webhooks.worker.quiet)) return;
  }
}

/** The env of a test app that delivers to receivers on loopback, polling often. */
export const PRIVATE_WEBHOOKS = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' };

/** An audited change of the user's, written by instance `t` in a transaction of its own, as a request to it would. */
export const recordAudited = (t: TestApp, action: 'LOGIN_FAILED' | 'RECOVERY_CODES_VIEWED', userId: string) =>
  t.app.database.transaction((manager) =>
    t.app.webhooks.events.recorded(
      manager,
      { actorId: userId, clientIp: '127.0.0.1' },
      { action, userId },
      t.clock.now(),
    ),
  );
