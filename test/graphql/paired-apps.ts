import { ManualClock } from '../../src/infra/clock';
import { startTestApp, type GqlResult, type TestApp, type TestAppOptions } from '../support/test-app';
import { seedServiceRandomness, type SeededRandomness } from './seeded-randomness';

/**
 * Two instances of the service, one running operations with graphql-jit and one
 * with graphql-js, each on its own database and store prefix, sharing one
 * ManualClock. Every request goes to both in lockstep: the service's random
 * draws are reseeded before each instance answers, so the two make the same ids,
 * secrets, codes and challenges, and their answers can be compared byte for byte
 * (status, headers but `date`, body); the one value normalised is a RATE_LIMITED
 * answer's seconds to wait (see alignRetrySeconds).
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
  /** Every difference seen so far, one line each (empty: byte-identical). */
  differences: string[];
  /** Requests compared so far. */
  compared: number;
}

export interface RawRequest {
  method?: 'GET' | 'POST';
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

/** Headers that differ by when the answer was sent, not by what it says. */
const VOLATILE_HEADERS = new Set(['date']);

export async function startPairedApps(options: TestAppOptions = {}): Promise<PairedApps> {
  const clock = options.clock ?? new ManualClock(new Date());
  const graphqlJs = await startTestApp({
    ...options,
    clock,
    env: { ...options.env, GRAPHQL_EXECUTOR: 'graphql-js' },
  });
  const jit = await startTestApp({
    ...options,
    clock,
    env: { ...options.env, GRAPHQL_EXECUTOR: 'jit' },
    // Every document compiled at its first request, so each case runs compiled.
    configure: (config) => {
      config.graphql.compileAfterRequests = 1;
      options.configure?.(config);
    },
  });
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
      const difference = describeDifference(fromJit, fromGraphqlJs);
      if (difference) {
        differences.push(`${label || summarize(request)}: ${difference}`);
      }
      return fromJit;
    };
    return inLine(run);
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
 * The one value normalised: a RATE_LIMITED answer's seconds to wait (in its
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

/** Where two answers first differ, or undefined when they are the same bytes. */
export function describeDifference(a: RawAnswer, given: RawAnswer): string | undefined {
  const b = { ...given, body: alignRetrySeconds(a.body, given.body) };
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
