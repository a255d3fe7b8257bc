import { totpCodeForStep, totpStepAt } from './totp';
/**
 * Helpers for the fault and multi-instance tests: requests that are timed and
 * never throw (a reset or a hang is recorded as such), and the contract's codes.
 */

/** Every `extensions.code` the contract allows a caller to see. */
export const CONTRACT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_REQUEST',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'INVALID_CODE',
  'RATE_LIMITED',
  'TWO_FACTOR_LOCKED',
  'CHALLENGE_NOT_FOUND',
  'NOT_ENROLLED',
  'REAUTHENTICATION_REQUIRED',
  'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
  'OWNERS_WITHOUT_TWO_FACTOR',
  'SMS_DELIVERY_FAILED',
  'SMS_NOT_ALLOWED',
  'SERVICE_UNAVAILABLE',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
]);

export interface Outcome {
  op: string;
  /** Whether the operation checks a code (the fail-closed rule applies). */
  codeCheck: boolean;
  started: number;
  ended: number;
  /** HTTP status; 0 when the request got no complete answer. */
  status: number;
  /** The first error's code, if any. */
  code?: string;
  /** A reset, a refused connection or a timeout instead of an answer. */
  transportError?: string;
  data?: any;
  errors?: any[];
  /** Anything the test wants to keep with it. */
  note?: string;
}

let inFlight = 0;
/** How many `timedGql` requests are waiting for their answer right now. */
export const requestsInFlight = () => inFlight;

/** POSTs one GraphQL operation; records what came back, however it came back. */
export async function timedGql(
  url: string,
  op: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { token?: string; codeCheck?: boolean; timeoutMs?: number; note?: string } = {},
): Promise<Outcome> {
  const started = Date.now();
  const base = { op, codeCheck: options.codeCheck ?? false, started, note: options.note };
  inFlight += 1;
  try {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      return { ...base, ended: Date.now(), status: response.status, transportError: `not JSON: ${text.slice(0, 200)}` };
    }
    return {
      ...base,
      ended: Date.now(),
      status: response.status,
      code: body.errors?.[0]?.extensions?.code,
      data: body.data,
      errors: body.errors,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      ...base,
      ended: Date.now(),
      status: 0,
      transportError: `${(error as Error).name}${cause ? ` ${cause}` : ''}: ${(error as Error).message}`,
    };
  } finally {
    inFlight -= 1;
  }
}

export const succeeded = (outcome: Outcome) => outcome.status === 200 && !outcome.transportError && !outcome.errors;

/** A short description of outcomes that broke a rule, for assertion messages. */
export function describeOutcomes(outcomes: Outcome[], limit = 10): string {
  return outcomes
    .slice(0, limit)
    .map(
      (o) =>
        `${o.op}${o.note ? `(${o.note})` : ''} status=${o.status} code=${o.code ?? '-'} ms=${o.ended - o.started}${o.transportError ? ` transport=${o.transportError}` : ''}${o.errors ? ` message=${JSON.stringify(o.errors[0]?.message)}` : ''}`,
    )
    .join('\n');
}

/** Outcomes that are not a complete, contract-shaped answer: a 5xx, a reset, a hang, an unknown code. */
export function improperAnswers(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter(
    (o) => o.transportError || o.status >= 500 || o.status === 0 || (o.errors && !CONTRACT_CODES.has(o.code ?? '')),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true; returns the milliseconds it took, or throws after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

export async function readyz(url: string): Promise<{ status: number; body: any }> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { status: 0, body: String(error) };
  }
}

const WORKER_START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const WORKER_VERIFY =
  'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';
const WORKER_VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const WORKER_ME = '{ me { id twoFactor { enabled } } }';

/**
 * Load that checks codes while a fault happens: one user per worker opens a
 * challenge and answers it, or steps up, always with a right code of a step it
 * has not used yet (the test's clock must move on); with no fresh step it reads
 * `me`. Every answer goes to `outcomes`; it stops when `running()` turns false.
 */
export async function codeCheckingWorker(
  url: string,
  user: { userId: string; token: string; secret: string },
  index: number,
  clock: { now(): Date },
  loginServiceToken: string,
  outcomes: Outcome[],
  running: () => boolean,
): Promise<void> {
  let challengeId: string | undefined;
  let lastStep = -1;
  for (let i = 0; running() && i < 5_000; i += 1) {
    const opened = await timedGql(
      url,
      'startLoginChallenge',
      WORKER_START,
      { u: user.userId },
      { token: loginServiceToken },
    );
    outcomes.push(opened);
    if (succeeded(opened)) challengeId = opened.data.startLoginChallenge.id;
    const step = totpStepAt(clock.now());
    if (step > lastStep && challengeId) {
      const code = totpCodeForStep(user.secret, step);
      const outcome =
        (i + index) % 2 === 0
          ? await timedGql(
              url,
              'verifyLoginChallenge',
              WORKER_VERIFY,
              { id: challengeId, c: code },
              { codeCheck: true },
            )
          : await timedGql(url, 'viewRecoveryCodes', WORKER_VIEW, { c: code }, { token: user.token, codeCheck: true });
      outcomes.push(outcome);
      if (succeeded(outcome) || outcome.code === 'INVALID_CODE') lastStep = step;
    } else {
      outcomes.push(await timedGql(url, 'me', WORKER_ME, {}, { token: user.token }));
    }
    await sleep(5);
  }
}
