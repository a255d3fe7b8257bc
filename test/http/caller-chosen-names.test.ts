import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildSchema } from 'graphql';
import { startTestApp, type TestApp } from '../support/test-app';

/** Log lines above info (pino levels: 40 warn, 50 error). */
const loud = (t: TestApp) => t.logs.filter((line) => JSON.parse(line).level > 30);

const committed = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8'));
/** The only values the operation label may take: the schema's root fields and two fixed ones. */
const CLOSED_OPERATION_LABELS = new Set([
  ...Object.keys(committed.getQueryType()!.getFields()),
  ...Object.keys(committed.getMutationType()!.getFields()),
  '__typename',
  '__schema',
  '__type',
  'multiple',
  'unknown',
]);

async function metricsText(t: TestApp): Promise<string> {
  return (await fetch(`${t.url}/metrics`)).text();
}
const operationSeries = (text: string) =>
  text.split('\n').filter((line) => line.startsWith('graphql_operation_duration_seconds'));
const operationLabels = (text: string) =>
  new Set([...text.matchAll(/graphql_operation_duration_seconds_count\{operation="([^"]*)"/g)].map((m) => m[1]));

const post = (t: TestApp, body: unknown) =>
  fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('operations the schema cannot run', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it.each([
    ['an anonymous subscription', 'subscription { x }'],
    ['a named subscription of a real field', 'subscription S { me { id } }'],
  ])('refuses %s as GRAPHQL_VALIDATION_FAILED (400), logged at info', async (_name, query) => {
    const before = loud(t).length;
    const response = await post(t, { query });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0].message).toMatch(/subscription/i);
    expect(loud(t).slice(before)).toEqual([]);
  });

  it.each([
    ['a wrong hash', { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } }],
    [
      'the right hash',
      { query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __typename }') } } },
    ],
    ['a hash alone', { extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ me { id } }') } } }],
    ['an unsupported version', { query: '{ __typename }', extensions: { persistedQuery: { version: 2 } } }],
    ['an unsupported version alone', { extensions: { persistedQuery: { version: 9, sha256Hash: 'x' } } }],
  ])('refuses a persisted query with %s as BAD_REQUEST (400), logged at info', async (_name, body) => {
    const before = loud(t).length;
    const response = await post(t, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: expect.stringMatching(/persisted quer/i), extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(loud(t).slice(before)).toEqual([]);
  });

  it('refuses a persisted query sent with GET as BAD_REQUEST', async () => {
    const extensions = encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'ab' } }));
    const response = await fetch(`${t.url}/graphql?query=%7B__typename%7D&extensions=${extensions}`, {
      headers: { 'apollo-require-preflight': '1', accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('counts unknown operations and fields under one fixed label, never a name the caller chose', async () => {
    await post(t, { query: 'subscription { callerChosenA callerChosenB }' });
    await post(t, { query: 'query CallerChosenName { callerChosenC }' });
    await post(t, { query: 'mutation { callerChosenD }' });
    await post(t, { query: 'query CallerChosenOp { __typename }', operationName: 'CallerChosenOther' });
    await post(t, { query: '{ ...F } fragment F on Query { callerChosenE }' });
    await post(t, { extensions: { persistedQuery: { version: 1, sha256Hash: 'callerChosenHash' } } });
    const token = await t.token('labels-user');
    await t.gql('{ me { id } __typename }', {}, token);
    await t.gql('{ me { id } organization(id: "none") { id } }', {}, token);
    const text = await metricsText(t);
    expect(text).not.toMatch(/callerChosen|CallerChosen/);
    expect([...operationLabels(text)].filter((label) => !CLOSED_OPERATION_LABELS.has(label))).toEqual([]);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="me",outcome="ok"\} 1\n/);
    expect(text).toMatch(
      /graphql_operation_duration_seconds_count\{operation="unknown",outcome="GRAPHQL_VALIDATION_FAILED"\}/,
    );
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="multiple",outcome="ok"\}/);
  });
});

/**
 * RSS and used heap after a full collection (`gc` is reachable once V8 is told
 * to expose it). They are the test process's: the service runs inside it.
 */
function memoryAfterGc(): { rss: number; heap: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heap: heapUsed };
}

describe('a flood of caller-chosen names', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Refusals are logged at info: the test keeps no log lines it does not look at.
    t = await startTestApp({ env: { LOG_LEVEL: 'warn' } });
  });
  afterAll(() => t?.close());

  // A document holds 40 operations (the one named by operationName is chosen),
  // each with 10 root fields (the limit): 400 field names per request, all new,
  // besides the operation names.
  const OPERATIONS = 40;
  const FIELDS = 10;
  const PARALLEL = 8;

  /** Sends `requests` requests over keep-alive (fetch keeps connections), each naming 400 fields never named before. */
  async function flood(round: string, requests: number): Promise<{ names: number; statuses: Set<number> }> {
    let next = 0;
    let names = 0;
    const statuses = new Set<number>();
    const document = (type: string, i: number, operations = OPERATIONS) =>
      Array.from({ length: operations }, (_, o) => {
        const fields = Array.from({ length: FIELDS }, (_, f) => `n_${round}_${i}_${o}_${f}`).join(' ');
        return `${type} Op_${round}_${i}_${o} { ${fields} }`;
      }).join(' ');
    const kinds = [
      (i: number) => ({ query: document('subscription', i), operationName: `Op_${round}_${i}_${i % OPERATIONS}` }),
      // Unknown fields of a real type: fewer, as validation seeks suggestions for each (in development).
      (i: number) => ({ query: document('mutation', i, 4), operationName: `Op_${round}_${i}_0` }),
      (i: number) => ({
        query: document('subscription', i),
        extensions: { persistedQuery: { version: 1, sha256Hash: `h_${round}_${i}` } },
      }),
      (i: number) => ({ query: document('subscription', i), operationName: `Op_${round}_${i}_${i % OPERATIONS}` }),
    ];
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < requests) {
          const i = next++;
          const body = kinds[i % kinds.length](i);
          const response = await post(t, body);
          statuses.add(response.status);
          await response.arrayBuffer();
          names += body.query.match(/\bn_\w+/g)!.length;
        }
      }),
    );
    return { names, statuses };
  }

  it('100,000 distinct names leave the metric series, the heap and the RSS as they were', async () => {
    // Warm up: every kind of refusal seen, the heap and the allocator at their
    // working size (measured here: they settle within about 700 such requests).
    await flood('warm', 700);
    const seriesBefore = operationSeries(await metricsText(t));
    const before = memoryAfterGc();

    const { names, statuses } = await flood('flood', 330);
    expect(names).toBeGreaterThanOrEqual(100_000);

    const seriesAfter = operationSeries(await metricsText(t));
    const after = memoryAfterGc();
    // The same series (their counts grew, not their number), all under closed labels.
    expect(seriesAfter.length).toBe(seriesBefore.length);
    expect([...operationLabels(seriesAfter.join('\n'))].filter((l) => !CLOSED_OPERATION_LABELS.has(l))).toEqual([]);
    // Nothing kept per request: 1 MB of heap over 330 requests fails anything
    // of 3.2 KB a request (before the fix: 14 series, and a logged stack trace, per
    // subscription); RSS, coarser (the allocator keeps pages), within 16 MB.
    expect(after.heap - before.heap).toBeLessThan(1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(16 * 1024 * 1024);
    expect(loud(t)).toEqual([]);
    expect(statuses).toEqual(new Set([400]));
  }, 300_000);
});
