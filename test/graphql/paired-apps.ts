import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { ManualClock } from '../../src/infra/clock';
import type { AttemptResult, OutboundAttempt, OutboundIntercept } from '../../src/infra/outbound/outbound-sender';
import { startTestApp, type GqlResult, type TestApp, type TestAppOptions } from '../support/test-app';
import { seedServiceRandomness, type SeededRandomness } from './seeded-randomness';

/**
 * Two instances of the service, one running operations with graphql-jit and one
 * with graphql-js, each on its own database and store prefix, sharing one
 * ManualClock. Every request goes to both in lockstep: the service's random
 * draws are reseeded before each instance answers, so the two make the same ids,
 * secrets, codes and challenges, and their answers can be compared byte for byte
 * (status, headers but `date`, body); the values normalised are a RATE_LIMITED
 * answer's seconds to wait (see alignRetrySeconds) and an ES256 signature's
 * random nonce, once both signatures verify (see alignSignatures).
 *
 * It is a TestApp itself (its answers are the jit instance's, checked against
 * the graphql-js one's), so any helper or runner written for a TestApp drives
 * both: enrolment helpers, the authorization matrix's fixture, the docs runner.
 */
export interface PairedApps extends TestApp {
  jit: TestApp;
  graphqlJs: TestApp;
  /** Sends one HTTP request to both; records any difference; answers the jit instance's. */
  send(request: RawRequest, label?: string): Promise<RawAnswer>;
  /**
   * Runs `work` on each instance in turn, in line with the requests and with
   * the service's random draws alike for both: background work in lockstep
   * (start them with manualBackgroundWork), e.g. a webhook's delivery.
   */
  both(work: (app: TestApp) => Promise<unknown>): Promise<void>;
  /** oneReceiver: the jit instance's outbound attempt waits for the receiver's answer (send answers out of line). */
  readonly awaitingReceiver: boolean;
  /** Every difference seen so far, one line each (empty: byte-identical). */
  differences: string[];
  /** Requests compared so far. */
  compared: number;
}

export interface RawRequest {
  /** POST by default; the docs page's SSF chapter also sends DELETE (and could PUT, PATCH). */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query string, e.g. /graphql or /graphql?query=... */
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface PairedAppsOptions extends TestAppOptions {
  /**
   * One receiver for the pair's outbound attempts (webhook deliveries, pushed
   * SETs; run them with `both`): the jit instance's reach it, and the graphql-js
   * instance's attempt of the same message (in lockstep, just after) gets the
   * outcome the jit one's got, so both keep the same rows and the receiver gets
   * each message once. While the jit instance's attempt waits for its answer,
   * requests the receiver makes to the pair (a SET's receiver fetching the
   * JWKS) are answered at once, out of line: the line is the attempt's.
   */
  oneReceiver?: boolean;
}

/** Which message an attempt carries: a webhook's id, a SET's jti, else the body. */
function messageOf({ url, headers, body }: OutboundAttempt): string {
  if (headers['webhook-id']) return `${url} ${headers['webhook-id']}`;
  try {
    const { jti } = JSON.parse(Buffer.from(body.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      jti?: unknown;
    };
    if (typeof jti === 'string') return `${url} ${jti}`;
  } catch {
    // not a JWT
  }
  return `${url} ${body}`;
}

/** Headers that differ by when the answer was sent, not by what it says. */
const VOLATILE_HEADERS = new Set(['date']);

export async function startPairedApps({ oneReceiver, ...options }: PairedAppsOptions = {}): Promise<PairedApps> {
  const clock = options.clock ?? new ManualClock(new Date());
  // oneReceiver: what each attempt of the jit instance got, by message, in order.
  const outcomes = new Map<string, AttemptResult[]>();
  const attempted = new Map<string, number>();
  let attemptsInFlight = 0;
  /** After an attempt, both instances draw from the same stream, whatever ran while it waited. */
  const reseedAfter = (message: string, counts: Map<string, number>) => {
    const index = (counts.get(message) ?? 0) + 1;
    counts.set(message, index);
    randomness.reseed(`attempt ${index} of ${message}`);
  };
  const jitSends: OutboundIntercept = async (attempt, send) => {
    attemptsInFlight += 1;
    let result: AttemptResult;
    try {
      result = await send();
    } finally {
      attemptsInFlight -= 1;
    }
    const message = messageOf(attempt);
    outcomes.set(message, [...(outcomes.get(message) ?? []), result]);
    reseedAfter(message, attempted);
    return result;
  };
  const replayed = new Map<string, number>();
  const graphqlJsGetsJitOutcome: OutboundIntercept = (attempt) => {
    const message = messageOf(attempt);
    const result = outcomes.get(message)?.shift() ?? { status: null, error: 'the jit instance made no such attempt' };
    reseedAfter(message, replayed);
    return Promise.resolve(result);
  };
  const withIntercept = (intercept: OutboundIntercept) =>
    oneReceiver ? { webhooks: { ...options.webhooks, intercept } } : {};

  const graphqlJs = await startTestApp({
    ...options,
    ...withIntercept(graphqlJsGetsJitOutcome),
    clock,
    env: { ...options.env, GRAPHQL_EXECUTOR: 'graphql-js' },
  });
  const jit = await startTestApp({
    ...options,
    ...withIntercept(jitSends),
    clock,
    env: { ...options.env, GRAPHQL_EXECUTOR: 'jit' },
    // Every document compiled at its first request, so each case runs compiled.
    configure: (config) => {
      config.graphql.compileAfterRequests = 1;
      options.configure?.(config);
    },
  });
  const signingKeyOf = (app: TestApp) => app.config.ssf && createPublicKey(app.config.ssf.signingKeyPem);
  const signingKeys = { jit: signingKeyOf(jit), graphqlJs: signingKeyOf(graphqlJs) };
  // Seeded only once both have started: each keeps its own database and store prefix.
  const randomness: SeededRandomness = seedServiceRandomness();
  const differences: string[] = [];
  let compared = 0;
  // One pair at a time: the seeded stream is the service's, whole, for each answer.
  let queue: Promise<unknown> = Promise.resolve();

  const fetchRaw = async (app: TestApp, request: RawRequest, seed: string): Promise<RawAnswer> => {
    randomness.reseed(seed);
    const response = await fetch(`${app.url}${request.path ?? '/graphql'}`, {
      method: request.method ?? 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(10_000),
    });
    const body = await response.text();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!VOLATILE_HEADERS.has(name)) headers[name] = value;
    });
    return { status: response.status, headers, body };
  };

  const send = (request: RawRequest, label = ''): Promise<RawAnswer> => {
    const run = async () => {
      compared += 1;
      const seed = `pair-${compared}`;
      // The same request id to both (else each makes its own, in the answer's x-request-id).
      const withId = { ...request, headers: { 'x-request-id': seed, ...request.headers } };
      const fromJit = await fetchRaw(jit, withId, seed);
      const fromGraphqlJs = await fetchRaw(graphqlJs, withId, seed);
      const difference = describeDifference(fromJit, fromGraphqlJs, signingKeys);
      if (difference) {
        differences.push(`${label || summarize(request)}: ${difference}`);
      }
      return fromJit;
    };
    // A receiver's request while the jit instance's attempt waits for it (oneReceiver): the line is held for it.
    return attemptsInFlight > 0 ? run() : inLine(run);
  };

  /** One pair at a time: what runs here has the seeded stream to itself. */
  const inLine = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  };

  let lockstep = 0;
  const both = (work: (app: TestApp) => Promise<unknown>): Promise<void> =>
    inLine(async () => {
      lockstep += 1;
      for (const app of [jit, graphqlJs]) {
        randomness.reseed(`both-${lockstep}`);
        await work(app);
      }
    });

  const gql = async <T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
    headers: Record<string, string> = {},
  ): Promise<GqlResult<T>> => {
    const answer = await send({
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = JSON.parse(answer.body);
    return { status: answer.status, data: body.data, errors: body.errors, body };
  };

  return {
    app: jit.app,
    url: jit.url,
    clock,
    config: jit.config,
    databaseUrl: jit.databaseUrl,
    logs: jit.logs,
    jit,
    graphqlJs,
    send,
    both,
    gql,
    differences,
    get compared() {
      return compared;
    },
    get awaitingReceiver() {
      return attemptsInFlight > 0;
    },
    token: (subject, scopes, tokenOptions) => jit.token(subject, scopes, tokenOptions),
    // Reads the jit instance's database; a statement that writes runs on both.
    async sql(statement, params) {
      const [rows] = await Promise.all([jit.sql(statement, params), graphqlJs.sql(statement, params)]);
      return rows;
    },
    async close() {
      randomness.restore();
      await Promise.all([jit.close(), graphqlJs.close()]);
    },
  };
}

/**
 * A value normalised: a RATE_LIMITED answer's seconds to wait (in its
 * message and `retryAfterSeconds`) come from the store's own expiry, in real
 * time, which moves on between the two answers. They may differ by a second or
 * two; the jit answer's value is then put in the other before comparing.
 */
const RETRY_SECONDS = /(try again in |"retryAfterSeconds":)(\d+)/g;
const RETRY_TOLERANCE_SECONDS = 2;

function alignRetrySeconds(jit: string, graphqlJs: string): string {
  const ours = [...jit.matchAll(RETRY_SECONDS)].map((match) => Number(match[2]));
  const theirs = [...graphqlJs.matchAll(RETRY_SECONDS)].map((match) => Number(match[2]));
  if (ours.length !== theirs.length) return graphqlJs;
  if (ours.some((seconds, index) => Math.abs(seconds - theirs[index]) > RETRY_TOLERANCE_SECONDS)) return graphqlJs;
  let index = 0;
  return graphqlJs.replace(RETRY_SECONDS, (_match, label: string) => `${label}${ours[index++]}`);
}

/**
 * The other value set aside: an ES256 signature (a Security Event Token's, in
 * an SSF poll's answer) is made with a fresh random nonce, so two instances
 * signing the same header and payload with the same key sign differently.
 * Where both answers hold the same tokens, in the same places, but for their
 * signatures, and each signature verifies with its instance's SSF key (the
 * same key: the JWKS both publish is compared too), the jit answer's
 * signatures are put in the other before comparing.
 */
const ES256_JWS = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}\b/g;

export interface SigningKeys {
  jit?: KeyObject | null;
  graphqlJs?: KeyObject | null;
}

function signedBy(jws: string, key: KeyObject): boolean {
  const at = jws.lastIndexOf('.');
  return verify(
    'sha256',
    Buffer.from(jws.slice(0, at)),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(jws.slice(at + 1), 'base64url'),
  );
}

function alignSignatures(jit: string, graphqlJs: string, keys: SigningKeys): string {
  if (!keys.jit || !keys.graphqlJs) return graphqlJs;
  const ours = [...jit.matchAll(ES256_JWS)].map((match) => match[0]);
  const theirs = [...graphqlJs.matchAll(ES256_JWS)].map((match) => match[0]);
  if (ours.length === 0 || ours.length !== theirs.length) return graphqlJs;
  const signed = (jws: string) => jws.slice(0, jws.lastIndexOf('.'));
  const alike = ours.every(
    (jws, index) =>
      signed(jws) === signed(theirs[index]) && signedBy(jws, keys.jit!) && signedBy(theirs[index], keys.graphqlJs!),
  );
  if (!alike) return graphqlJs;
  let index = 0;
  return graphqlJs.replace(ES256_JWS, () => ours[index++]);
}

/** Where two answers first differ, or undefined when they are the same bytes. */
export function describeDifference(a: RawAnswer, given: RawAnswer, keys: SigningKeys = {}): string | undefined {
  const b = { ...given, body: alignSignatures(a.body, alignRetrySeconds(a.body, given.body), keys) };
  if (a.status !== b.status) return `status ${a.status} (jit) vs ${b.status} (graphql-js)`;
  const headers = [...new Set([...Object.keys(a.headers), ...Object.keys(b.headers)])].filter(
    (name) => a.headers[name] !== b.headers[name],
  );
  if (headers.length > 0)
    return `headers ${headers.map((name) => `${name}: ${a.headers[name]} (jit) vs ${b.headers[name]} (graphql-js)`).join('; ')}`;
  if (a.body === b.body) return undefined;
  let at = 0;
  while (at < a.body.length && a.body[at] === b.body[at]) at += 1;
  const around = (body: string) => JSON.stringify(body.slice(Math.max(0, at - 60), at + 100));
  return `body differs at ${at}: ${around(a.body)} (jit) vs ${around(b.body)} (graphql-js)`;
}

function summarize(request: RawRequest): string {
  return `${request.method ?? 'POST'} ${request.path ?? '/graphql'} ${(request.body ?? '').slice(0, 120)}`;
}
