import { execFileSync } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import {
  codeCheckingWorker,
  describeOutcomes,
  eventually,
  improperAnswers,
  type Outcome,
  readyz,
  requestsInFlight,
  sleep,
  succeeded,
  timedGql,
} from '../support/faults';
import { PrivateRedis, freePort } from '../support/private-redis';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { totpCodeForStep, totpStepAt } from '../support/totp';
import { currentTotp, type EnrolledUser, enrollTotp } from '../support/two-factor';

const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const REGENERATE = 'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { codes { code } } }';

/**
 * Redis (the challenge and rate-limit store) is killed and started again while
 * requests that check right codes are in flight: every code check in the outage
 * is refused with SERVICE_UNAVAILABLE (never a success, never a 5xx, never a
 * hang), /readyz names the store, and the service recovers by itself.
 */
describe('Redis goes away with requests in flight', () => {
  const redis = new PrivateRedis(freePort(21000));
  let t: TestApp | undefined;

  beforeAll(async () => {
    await redis.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await redis.stop();
    // Whatever a failed test left behind on this private port goes too.
    const pid = redisPid();
    if (pid) process.kill(pid, 'SIGKILL');
  });

  /** The pid of the redis-server answering on the private port, if any. */
  const redisPid = (): number | undefined => {
    try {
      return Number(
        /process_id:(\d+)/.exec(
          execFileSync('redis-cli', ['-p', String(redis.port), 'INFO', 'server'], { timeout: 2_000 }).toString(),
        )![1],
      );
    } catch {
      return undefined;
    }
  };
  /** Starts the private Redis unless it already answers (a test before may have stopped it and failed). */
  const ensureRedisUp = async () => {
    if (!redisPid()) await redis.start();
  };

  it('fails every code check closed during the outage and recovers without a restart', async () => {
    const app = t!;
    const loginService = await app.token('login-service', ['twofactor:login']);
    const users: EnrolledUser[] = [];
    for (let i = 0; i < 6; i += 1) users.push(await enrollTotp(app, uniqueId('redis-fault')));

    const outcomes: Outcome[] = [];
    let running = true;
    // The authenticator clock moves on its own, so each user has a fresh right code every 250 ms.
    const ticker = setInterval(() => app.clock.advance(30_000), 250);

    const worker = (user: EnrolledUser, index: number) =>
      codeCheckingWorker(app.url, user, index, app.clock, loginService, outcomes, () => running);
    const workers = users.map((user, index) => worker(user, index));

    let killAt = 0;
    let faultFrom = 0;
    let restartAt = 0;
    let readyAgainMs = -1;
    const faultReadiness: { status: number; body: any }[] = [];
    try {
      await sleep(1_000);
      expect((await readyz(app.url)).status).toBe(200);
      // Kill at a moment when several requests are waiting for their answers.
      await eventually('requests in flight', async () => requestsInFlight() >= 3, 5_000, 1);
      killAt = Date.now();
      await redis.stop();
      faultFrom = Date.now();
      await eventually(
        '/readyz 503',
        async () => {
          const ready = await readyz(app.url);
          faultReadiness.push(ready);
          return ready.status === 503;
        },
        5_000,
      );
      await sleep(2_500);
      faultReadiness.push(await readyz(app.url));
      restartAt = Date.now();
      await redis.start();
      readyAgainMs = await eventually('/readyz 200 again', async () => (await readyz(app.url)).status === 200, 15_000);
      // Recovered by itself: right codes succeed again while the load goes on.
      await eventually(
        'a code check succeeding after the restart',
        async () => outcomes.some((o) => o.codeCheck && o.started > restartAt && succeeded(o)),
        10_000,
      );
      await sleep(500);
    } finally {
      running = false;
      clearInterval(ticker);
      await Promise.all(workers);
    }

    // Every answer, before, during and after: complete, contract-shaped, no 5xx, in bounded time.
    expect(describeOutcomes(improperAnswers(outcomes))).toBe('');
    const slow = outcomes.filter((o) => o.ended - o.started > 5_000);
    expect(describeOutcomes(slow)).toBe('');

    // Requests were in flight when Redis died.
    expect(outcomes.filter((o) => o.started <= killAt && o.ended >= killAt).length).toBeGreaterThanOrEqual(3);

    // Started and answered wholly within the outage: every code check (each with a right code) and
    // every challenge opened is SERVICE_UNAVAILABLE, never a success.
    const inOutage = outcomes.filter((o) => o.started >= faultFrom && o.ended <= restartAt);
    const checksInOutage = inOutage.filter((o) => o.codeCheck);
    expect(checksInOutage.length).toBeGreaterThanOrEqual(10);
    expect(describeOutcomes(checksInOutage.filter((o) => o.code !== 'SERVICE_UNAVAILABLE'))).toBe('');
    const opensInOutage = inOutage.filter((o) => o.op === 'startLoginChallenge');
    expect(describeOutcomes(opensInOutage.filter((o) => o.code !== 'SERVICE_UNAVAILABLE'))).toBe('');
    // Not a single code-check success from the moment Redis died until it was back.
    expect(
      describeOutcomes(
        outcomes.filter((o) => o.codeCheck && succeeded(o) && o.started >= killAt && o.ended <= restartAt),
      ),
    ).toBe('');

    // /readyz named the store, and only the store.
    expect(faultReadiness.at(-1)).toEqual({ status: 503, body: { status: 'unavailable', failed: ['store'] } });
    expect(readyAgainMs).toBeLessThan(10_000);

    // And afterwards, deterministically: a challenge opens and a right code logs in; a step-up works.
    const user = users[0];
    app.clock.advance(60_000);
    const challenge = await app.gql(START, { u: user.userId }, loginService);
    expect(challenge.errors).toBeUndefined();
    const step = totpStepAt(app.clock.now());
    expect(
      (await app.gql(VERIFY, { id: challenge.data.startLoginChallenge.id, c: totpCodeForStep(user.secret, step) })).data
        ?.verifyLoginChallenge?.method,
    ).toBe('TOTP');
    expect((await app.gql(VIEW, { c: user.recoveryCodes[9] }, user.token)).errors).toBeUndefined();
    // Summary for the report.
    const checks = outcomes.filter((o) => o.codeCheck);
    console.log(
      `redis fault: ${outcomes.length} requests, ${checks.length} code checks (${checksInOutage.length} in the outage, all SERVICE_UNAVAILABLE), ` +
        `${outcomes.filter((o) => o.started <= killAt && o.ended >= killAt).length} in flight at the kill, readyz 200 ${readyAgainMs} ms after restart, ` +
        `max latency ${Math.max(...outcomes.map((o) => o.ended - o.started))} ms`,
    );
  }, 60_000);

  it('a code check admitted before Redis died and committing after: its answer matches what it did', async () => {
    const app = t!;
    await ensureRedisUp();
    await eventually('/readyz 200', async () => (await readyz(app.url)).status === 200, 15_000);
    const user = await enrollTotp(app, uniqueId('redis-commit'));
    const hashes = async () =>
      (await app.sql('SELECT code_hash FROM recovery_codes WHERE user_id = ? ORDER BY code_hash', [user.userId])).map(
        (row) => row.code_hash,
      );
    const before = await hashes();

    // Hold the user's row: the regeneration passes the store (admitted, counted) and waits in its transaction.
    const locker = await createConnection({ uri: app.databaseUrl });
    let answer: Outcome;
    try {
      await locker.query('START TRANSACTION');
      await locker.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [user.userId]);
      const pending = timedGql(
        app.url,
        'regenerateRecoveryCodes',
        REGENERATE,
        { c: currentTotp(app, user.secret) },
        { token: user.token, codeCheck: true },
      );
      await eventually(
        'the regeneration waiting on the row lock',
        async () => {
          const [rows] = await locker.query<any[]>(
            "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND info LIKE '%FOR UPDATE%' AND id <> CONNECTION_ID()",
            [new URL(app.databaseUrl).pathname.slice(1)],
          );
          return Number(rows[0].n) >= 1;
        },
        10_000,
        20,
      );
      // Redis dies while it waits; then the database lets it go on.
      await redis.stop();
      await locker.query('COMMIT');
      answer = await pending;
    } finally {
      await locker.end();
      await ensureRedisUp();
    }

    expect(describeOutcomes(improperAnswers([answer]))).toBe('');
    const after = await hashes();
    if (succeeded(answer)) {
      // It did the regeneration and said so.
      expect(after).not.toEqual(before);
    } else {
      // Refused (fail closed): then nothing may have changed, or the user is told their codes
      // failed to regenerate while the codes they hold were voided.
      expect([answer.code, after]).toEqual(['SERVICE_UNAVAILABLE', before]);
    }
  }, 30_000);

  it('a store that stops answering (SIGSTOP, as in a network partition): refusals in bounded time, never a hang, and recovery after SIGCONT', async () => {
    const app = t!;
    await ensureRedisUp();
    await eventually('/readyz 200', async () => (await readyz(app.url)).status === 200, 15_000);
    const loginService = await app.token('login-service', ['twofactor:login']);
    const frozen = await enrollTotp(app, uniqueId('redis-frozen'));
    const bystander = await enrollTotp(app, uniqueId('redis-bystander'));
    const challenge = (await app.gql(START, { u: frozen.userId }, loginService)).data.startLoginChallenge.id as string;
    const pid = redisPid()!;

    process.kill(pid, 'SIGSTOP');
    let during: Outcome[] = [];
    let readiness: { status: number; body: any } | undefined;
    try {
      const code = currentTotp(app, frozen.secret);
      [readiness, ...during] = await Promise.all([
        readyz(app.url),
        timedGql(app.url, 'verifyLoginChallenge', VERIFY, { id: challenge, c: code }, { codeCheck: true }),
        timedGql(app.url, 'viewRecoveryCodes', VIEW, { c: code }, { token: frozen.token, codeCheck: true }),
        timedGql(
          app.url,
          'viewRecoveryCodes',
          VIEW,
          { c: frozen.recoveryCodes[0] },
          { token: frozen.token, codeCheck: true },
        ),
        timedGql(app.url, 'startLoginChallenge', START, { u: frozen.userId }, { token: loginService }),
      ]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(describeOutcomes(improperAnswers(during))).toBe('');
    expect(during.map((o) => o.code)).toEqual(Array(4).fill('SERVICE_UNAVAILABLE'));
    for (const outcome of during) expect(outcome.ended - outcome.started).toBeLessThan(6_000);
    expect(readiness).toEqual({ status: 503, body: { status: 'unavailable', failed: ['store'] } });

    await eventually('/readyz 200 after SIGCONT', async () => (await readyz(app.url)).status === 200, 10_000);
    app.clock.advance(30_000);
    const fresh = (await app.gql(START, { u: bystander.userId }, loginService)).data.startLoginChallenge.id;
    expect(
      (await app.gql(VERIFY, { id: fresh, c: currentTotp(app, bystander.secret) })).data?.verifyLoginChallenge?.method,
    ).toBe('TOTP');
    expect((await app.gql(VIEW, { c: currentTotp(app, frozen.secret) }, frozen.token)).errors).toBeUndefined();
  }, 30_000);
});
