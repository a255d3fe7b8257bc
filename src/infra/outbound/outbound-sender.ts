import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { LIMITS } from '../../limits';
import { BlockedAddressError, type NetworkPolicy } from './network-policy';

/** What one attempt got: the status (null: no answer) and, unless it was a 2xx, why it failed. */
export interface AttemptResult {
  status: number | null;
  error: string | null;
}

export interface OutboundSenderOptions {
  timeoutMs?: number;
  /** Extra trust anchors for receivers' certificates (a private CA); the system's otherwise. */
  ca?: string | Buffer;
  /** The User-Agent of every request (webhooks by default). */
  userAgent?: string;
  /** Tests: makes each attempt in the sender's place (see OutboundIntercept). */
  intercept?: OutboundIntercept;
}

/** One attempt, as the sender was asked to make it. */
export interface OutboundAttempt {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Tests: makes an attempt in the sender's place; `send` makes the real one.
 * Two instances in lockstep share one receiver with it: one sends, the other
 * gets the outcome the first one got (test/graphql/paired-apps.ts).
 */
export type OutboundIntercept = (
  attempt: OutboundAttempt,
  send: () => Promise<AttemptResult>,
) => Promise<AttemptResult>;

/** Bodies are read only to keep the connection reusable, never stored: this much at most. */
const MAX_RESPONSE_BYTES = 16 * 1024;

/**
 * An outbound POST to a receiver's URL (webhooks, pushed Security Event Tokens):
 * one HTTP POST per attempt, outside any database transaction: the whole attempt
 * (connect, TLS, answer) within the time-out, redirects never followed (a 3xx is
 * a failure), each connection's address checked by the SSRF guard as it is
 * resolved (NetworkPolicy.connectLookup) and again once connected.
 */
export class OutboundSender {
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly intercept: OutboundIntercept | undefined;

  constructor(
    private readonly policy: NetworkPolicy,
    options: OutboundSenderOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? LIMITS.webhookTimeoutSeconds * 1000;
    this.userAgent = options.userAgent ?? 'twofactor-webhooks/1';
    this.intercept = options.intercept;
    // Per origin: endpoints on one host never wait for each other's sockets (the worker bounds each endpoint).
    const pool = { keepAlive: true, maxSockets: LIMITS.webhookMaxInFlight, timeout: this.timeoutMs };
    this.agents = {
      http: new http.Agent(pool),
      https: new https.Agent({ ...pool, ...(options.ca ? { ca: options.ca } : {}) }),
    };
  }

  send(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<AttemptResult> {
    if (this.intercept) return this.intercept({ url, headers, body }, () => this.attempt(url, headers, body, signal));
    return this.attempt(url, headers, body, signal);
  }

  private attempt(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal?: AbortSignal,
  ): Promise<AttemptResult> {
    const refusal = this.policy.refusal(url);
    if (refusal) return Promise.resolve({ status: null, error: refusal });
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const request = (secure ? https : http).request(target, {
        method: 'POST',
        agent: secure ? this.agents.https : this.agents.http,
        lookup: this.policy.connectLookup,
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': this.userAgent,
          ...headers,
        },
      });
      const timer = setTimeout(
        () => request.destroy(new AttemptTimeout(`no answer within ${this.timeoutMs / 1000} s`)),
        this.timeoutMs,
      );
      const onAbort = () => request.destroy(new AttemptTimeout('stopped: the instance is shutting down'));
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('socket', (socket: Socket) => {
        const check = () => {
          const refused = this.policy.connectedTo(socket.remoteAddress);
          if (refused) request.destroy(new BlockedAddressError(refused));
        };
        if (socket.connecting) socket.once('connect', check);
        else check();
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) response.destroy();
        });
        const done = () => finish({ status, error: judge(status) });
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      });
      request.on('error', (error) => finish({ status: null, error: describe(error) }));
      request.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

class AttemptTimeout extends Error {}

/** Null for a 2xx; else why the attempt failed. */
function judge(status: number): string | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return `redirect (${status}) not followed`;
  return `HTTP ${status}`;
}

/** Why no answer came, in a few words (never a response body or a header). */
function describe(error: Error & { code?: string }): string {
  if (error instanceof AttemptTimeout || error instanceof BlockedAddressError) return error.message;
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      if (error.code && /CERT|TLS|SSL/.test(error.code)) return `TLS: ${error.code}`;
      return (error.code ?? error.message).slice(0, 200);
  }
}
