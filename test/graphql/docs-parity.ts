import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { PairedApps, RawRequest } from './paired-apps';

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

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The request's method, as the page sent it (the SSF chapter's management API uses DELETE). */
function methodOf(request: IncomingMessage): NonNullable<RawRequest['method']> {
  const method = METHODS.find((one) => one === request.method);
  if (!method) throw new Error(`the page sent ${request.method}, which the proxy does not forward`);
  return method;
}

export interface PairProxy {
  port: number;
  /** http://127.0.0.1:<port>: the service's own address (the SSF issuer the page names). */
  url: string;
  /** From now on, the pair answers. */
  serve(pair: PairedApps): void;
  /** Requests the pair could not answer (the proxy answered 502). */
  problems: string[];
  close(): Promise<void>;
}

/**
 * A port of its own for a pair, listening before the pair starts (so that the
 * pair knows its address: SSF_ISSUER), serving it as if it were one service for
 * docs/api.md's shell (test/docs/api-runner.ts) once `serve` gives it: each
 * request goes to both instances in lockstep (pair.send compares their answers)
 * and is answered with the jit instance's. Before it, the shared clock is set to
 * the real time (the page's tokens and TOTP codes follow it); after it, both
 * instances deliver what is due, alike (pair.both; the pair is started with
 * oneReceiver, so the page's receivers get each webhook and SET once): webhook
 * deliveries, then a round of SSF pushes. The jit instance's log goes on in
 * `serviceLog`, where the page finds its SMS codes.
 */
export async function listenForPair(serviceLog: string): Promise<PairProxy> {
  let pair: PairedApps | undefined;
  const problems: string[] = [];
  let logged = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const label = labelOf(request, body);
      const answer = async () => {
        if (!pair) throw new Error('the pair has not started yet');
        // A receiver's request while the jit instance's attempt waits for its answer (a SET's
        // receiver fetching the JWKS) is part of that attempt: no clock move, no delivery round.
        const duringAttempt = pair.awaitingReceiver;
        if (!duringAttempt) pair.clock.set(new Date());
        const answered = await pair.send(
          {
            method: methodOf(request),
            path: request.url,
            headers: forwarded(request.headers),
            // A GET has none; a DELETE sent without one (curl -X DELETE) stays without one.
            body: request.method === 'GET' || (request.method === 'DELETE' && body === '') ? undefined : body,
          },
          label,
        );
        if (!duringAttempt) {
          await pair.both((instance) => instance.app.webhooks.worker.settle());
          await pair.both((instance) => instance.app.runBackgroundJob('ssf-push'));
        }
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
  const { port } = server.address() as { port: number };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    serve: (given) => {
      pair = given;
    },
    problems,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
