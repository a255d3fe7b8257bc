import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AttemptResult, OutboundSender } from '../../src/infra/outbound/outbound-sender';
import type { TestApp } from '../support/test-app';
import type { PairedApps } from './paired-apps';

/** Headers of one hop, or that the answer's new framing sets again. */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
]);

function forwarded(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' && !NOT_FORWARDED.has(name)) kept[name] = value;
  }
  return kept;
}

function labelOf(request: IncomingMessage, body: string): string {
  let document = '';
  try {
    document = String((JSON.parse(body) as { query?: unknown }).query ?? '');
  } catch {
    document = body;
  }
  return `docs/api.md: ${request.method} ${request.url} ${document.replace(/\s+/g, ' ').slice(0, 100)}`;
}

/**
 * The page has one webhook receiver, which prints each delivery it gets: the
 * jit instance's attempts reach it, and the graphql-js instance's attempt of
 * the same delivery (in lockstep, just after) gets the outcome the jit one's
 * got, so both keep the same delivery rows and the page sees each delivery once.
 */
function shareOneReceiver(pair: PairedApps): void {
  const senderOf = (instance: TestApp) =>
    (instance.app.webhooks.worker as unknown as { deps: { sender: OutboundSender } }).deps.sender;
  const outcomes = new Map<string, AttemptResult[]>();
  const keyOf = (url: string, headers: Record<string, string>) => `${url} ${headers['webhook-id']}`;
  const jit = senderOf(pair.jit);
  const send = jit.send.bind(jit);
  jit.send = async (url, headers, body, signal) => {
    const result = await send(url, headers, body, signal);
    outcomes.set(keyOf(url, headers), [...(outcomes.get(keyOf(url, headers)) ?? []), result]);
    return result;
  };
  senderOf(pair.graphqlJs).send = (url, headers) =>
    Promise.resolve(
      outcomes.get(keyOf(url, headers))?.shift() ?? { status: null, error: 'the jit instance made no such attempt' },
    );
}

export interface PairProxy {
  port: number;
  /** Requests the pair could not answer (the proxy answered 502). */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Serves `pair` on a port of its own, as if it were one service, for docs/api.md's
 * shell (test/docs/api-runner.ts): each request goes to both instances in
 * lockstep (pair.send compares their answers) and is answered with the jit
 * instance's. Before it, the shared clock is set to the real time (the page's
 * tokens and TOTP codes follow it); after it, both instances deliver what is
 * due, alike (pair.both; shareOneReceiver), and the jit
 * instance's log goes on in `serviceLog`, where the page finds its SMS codes.
 */
export async function servePair(pair: PairedApps, serviceLog: string): Promise<PairProxy> {
  shareOneReceiver(pair);
  const problems: string[] = [];
  let logged = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const label = labelOf(request, body);
      const answer = async () => {
        pair.clock.set(new Date());
        const answered = await pair.send(
          {
            method: request.method === 'GET' ? 'GET' : 'POST',
            path: request.url,
            headers: forwarded(request.headers),
            body: request.method === 'GET' ? undefined : body,
          },
          label,
        );
        await pair.both((instance) => instance.app.webhooks.worker.settle());
        appendFileSync(serviceLog, pair.jit.logs.slice(logged).join(''));
        logged = pair.jit.logs.length;
        response.writeHead(answered.status, forwarded(answered.headers)).end(answered.body);
      };
      answer().catch((error: unknown) => {
        problems.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
        response.writeHead(502).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    problems,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
