import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEEPLY_NESTED_BODY,
  MUTATION_BY_GET,
  operationCases,
  setUpBadInputTarget,
  TRANSPORT_CASES,
} from '../attack/bad-input-cases';
import { freePort, pageExamples, pageWorkFolder, reportOf, runExamples, Session, shellEnv } from '../docs/api-runner';
import { cellOrder, makeFixture } from '../security/authorization-fixture';
import { CALLER_KINDS, MATRIX } from '../security/authorization-matrix';
import { AUTH_SECRET } from '../support/test-app';
import { listenForPair, type PairProxy } from './docs-parity';
import { type PairedApps, startPairedApps } from './paired-apps';

/**
 * The proof that GRAPHQL_EXECUTOR=jit changes nothing callers see: every case of
 * the bad-input suite, every cell of the authorization matrix and every example
 * of docs/api.md, sent in lockstep to an instance running graphql-jit (every
 * document compiled at its first request) and one running graphql-js, gets the
 * same status, headers and body bytes from both (paired-apps.ts: same clock,
 * same seeded random draws; only the Date header and a RATE_LIMITED answer's
 * seconds to wait, which follow the real time, and the random nonce of an
 * ES256 signature that verifies, are set aside).
 */

/** No difference so far; else the count and the first few, not thousands of lines. */
function expectSameAnswers(pair: PairedApps): void {
  const { differences } = pair;
  if (differences.length > 0) {
    throw new Error(
      `${differences.length} of ${pair.compared} answers differ; the first:\n${differences.slice(0, 8).join('\n')}`,
    );
  }
}

const isQuery = (document: string) => /^\s*(query\b|\{)/.test(document);

/** Operations the jit instance ran compiled, read from its /metrics. */
async function ranByJit(pair: PairedApps): Promise<number> {
  const text = await (await fetch(`${pair.jit.url}/metrics`)).text();
  return Number(/^graphql_executions_total\{executor="jit"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('graphql-jit and graphql-js answer alike', () => {
  describe('every case of the bad-input suite', () => {
    let pair: PairedApps;
    let tokens: Awaited<ReturnType<typeof setUpBadInputTarget>>['tokens'];

    beforeAll(async () => {
      pair = await startPairedApps({ env: { IP_ATTEMPTS_PER_MINUTE: '1000000' } });
      ({ tokens } = await setUpBadInputTarget(pair));
    });
    afterAll(() => pair?.close());
    // Each test answers for its own requests.
    beforeEach(() => pair.differences.splice(0));

    it('answers every operation case with the same bytes', async () => {
      const compiledBefore = await ranByJit(pair);
      const cases = operationCases(tokens);
      let shouldRunCompiled = 0;
      for (const testCase of cases) {
        const answer = await pair.send(
          {
            headers: {
              'content-type': 'application/json',
              ...(testCase.token ? { authorization: `Bearer ${testCase.token}` } : {}),
            },
            body: JSON.stringify({ query: testCase.document, variables: testCase.variables }),
          },
          testCase.name,
        );
        if (isQuery(testCase.document) && answer.status === 200 && JSON.parse(answer.body).errors?.length <= 1)
          shouldRunCompiled += 1;
      }
      expectSameAnswers(pair);
      // Not vacuous: every query whose variables coerce and that answers at most one error ran compiled.
      console.log(`executor parity: ${cases.length} bad-input cases, ${shouldRunCompiled} of them run compiled`);
      expect(shouldRunCompiled).toBeGreaterThan(50);
      expect((await ranByJit(pair)) - compiledBefore).toBe(shouldRunCompiled);
    }, 120_000);

    it.each(TRANSPORT_CASES)('answers %s at the transport with the same bytes', async (name, contentType, body) => {
      await pair.send(
        { headers: { 'content-type': contentType, authorization: `Bearer ${tokens.user}` }, body },
        `transport: ${name}`,
      );
      expectSameAnswers(pair);
    });

    it('answers deeply nested JSON variables and a mutation sent with GET with the same bytes', async () => {
      await pair.send(
        {
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.all}` },
          body: DEEPLY_NESTED_BODY,
        },
        'deeply nested variables',
      );
      await pair.send(
        {
          method: 'GET',
          path: MUTATION_BY_GET,
          headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${tokens.user}` },
        },
        'a mutation sent with GET',
      );
      expectSameAnswers(pair);
    });
  });

  describe('where graphql-jit on its own would differ', () => {
    let pair: PairedApps;
    let tokens: Awaited<ReturnType<typeof setUpBadInputTarget>>['tokens'];
    beforeAll(async () => {
      pair = await startPairedApps();
      ({ tokens } = await setUpBadInputTarget(pair));
    });
    afterAll(() => pair?.close());
    beforeEach(() => pair.differences.splice(0));

    // graphql-js stops a mutation at a non-null root field that fails; jit ran the
    // next one. The answers alone read the same: the read after them does not.
    it('runs no root field of a mutation after one that failed', async () => {
      const failedFirst = await pair.gql(
        'mutation { a: deleteUser(userId: "a b") b: upsertOrganization(id: "made-after-a-failure", name: "Made") { id } }',
        {},
        tokens.all,
      );
      expect(failedFirst.data).toBeNull();
      const after = await pair.gql('{ organization(id: "made-after-a-failure") { id } }', {}, tokens.all);
      expect(after.data).toEqual({ organization: null });
      expectSameAnswers(pair);
    });
  });

  describe('every cell of the authorization matrix', () => {
    let pair: PairedApps;
    beforeAll(async () => {
      pair = await startPairedApps();
    });
    afterAll(() => pair?.close());
    // Each test answers for its own requests.
    beforeEach(() => pair.differences.splice(0));

    // Rows one after another, cells one after another: each request is compared, the cast's too.
    it.each(MATRIX.map((row) => [row.name, row] as const))(
      '%s: every caller gets the same bytes',
      async (_name, row) => {
        const before = pair.compared;
        const fixture = await makeFixture(pair);
        const { first, then } = cellOrder(row);
        const compiledBefore = await ranByJit(pair);
        for (const caller of [...first, ...then]) {
          const variables = (await row.variables?.(fixture, caller)) ?? {};
          await pair.gql(row.document, variables, fixture.tokens[caller]);
        }
        expectSameAnswers(pair);
        expect(pair.compared - before).toBeGreaterThanOrEqual(CALLER_KINDS.length);
        // A row of a query ran compiled (at least the cells answering at most one error).
        if (isQuery(row.document)) expect((await ranByJit(pair)) - compiledBefore).toBeGreaterThan(0);
      },
      60_000,
    );
  });

  describe('every example of docs/api.md', () => {
    const { examples } = pageExamples();
    const work = pageWorkFolder();
    let pair: PairedApps;
    let proxy: PairProxy;
    let session: Session;
    let sessionStart = 0;

    // The page as test/docs/api-examples.test.ts runs it, in one shell, top to
    // bottom; its service is the pair, behind one port (docs-parity.ts), which
    // is also the pair's own address (SSF_ISSUER, by default the service's).
    beforeAll(async () => {
      sessionStart = Date.now();
      proxy = await listenForPair(join(work, 'service.log'));
      pair = await startPairedApps({
        env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SSF_ISSUER: proxy.url },
        manualBackgroundWork: true,
        oneReceiver: true,
      });
      proxy.serve(pair);
      const ports = { port: proxy.port, receiverPort: await freePort() };
      // The page's tokens (npm run token) signed for the pair.
      session = new Session(work, shellEnv(work, ports, { AUTH_JWT_SECRET: AUTH_SECRET }));
    }, 90_000);
    afterAll(async () => {
      session?.close();
      await proxy?.close();
      await pair?.close();
      rmSync(work, { recursive: true, force: true });
    });

    it('answers every example of the page with the same bytes', async () => {
      const compiledBefore = await ranByJit(pair);
      const outcomes = await runExamples(session, examples, sessionStart);
      expectSameAnswers(pair);
      expect(proxy.problems).toEqual([]);
      // Not vacuous: the page ran to its end, each example answering as the page shows.
      const report = reportOf(
        outcomes.filter((outcome) => outcome.problem),
        outcomes,
        examples,
      );
      if (report.length > 0)
        throw new Error(`${report.length} of ${examples.length} examples of docs/api.md:\n\n${report.join('\n\n')}`);
      const compiled = (await ranByJit(pair)) - compiledBefore;
      console.log(
        `executor parity: ${examples.length} examples of docs/api.md, ${pair.compared} requests, ${compiled} run compiled`,
      );
      expect(pair.compared).toBeGreaterThan(examples.length);
      expect(compiled).toBeGreaterThan(20);
    }, 600_000);
  });
});
