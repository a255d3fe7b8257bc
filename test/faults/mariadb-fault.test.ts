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
import { PrivateMariaDb } from '../support/private-mariadb';
import { freePort } from '../support/private-redis';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { totpCodeAt } from '../support/totp';
import { type EnrolledUser, enrollTotp } from '../support/two-factor';

const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';
const START_TOTP = 'mutation { startTotpSetup { secret } }';
const CONFIRM_TOTP = 'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes status { enabled } } }';

interface PendingUser {
  userId: string;
  token: string;
  secret: string;
  confirmed?: 'answered' | 'found-done';
}

/**
 * A private mariadbd is SIGKILLed while code checks, reads and TOTP
 * confirmations are in flight, then started again on the same data folder and
 * port: every request answers in bounded time with a contract code (no 5xx, no
 * hang), /readyz names the database, the service recovers by itself, and no
 * confirmation is half-written.
 */
describe('MariaDB goes away with requests in flight', () => {
  const mariadb = new PrivateMariaDb(freePort(22000));
  const databaseUrl = `${mariadb.rootUrl}/twofactor`;
  let t: TestApp | undefined;

  beforeAll(async () => {
    await mariadb.install();
    await mariadb.start();
    const admin = await createConnection({ uri: `${mariadb.rootUrl}/mysql` });
    await admin.query('CREATE DATABASE twofactor');
    await admin.end();
    t = await startTestApp({ databaseUrl });
  }, 60_000);
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    await mariadb.destroy();
  });

  it('answers SERVICE_UNAVAILABLE in bounded time during the outage, recovers by itself, and writes nothing by halves', async () => {
    const app = t!;
    const loginService = await app.token('login-service', ['twofactor:login']);
    const enrolled: EnrolledUser[] = [];
    for (let i = 0; i < 4; i += 1) enrolled.push(await enrollTotp(app, uniqueId('db-fault')));
    // Users whose TOTP setup is started and not yet confirmed: confirmed under load, across the crash.
    const pending: PendingUser[] = [];
    for (let i = 0; i < 60; i += 1) {
      const userId = uniqueId('db-pending');
      const token = await app.token(userId, [], { authTime: app.clock.now() });
      const started = await app.gql(START_TOTP, {}, token);
      if (started.errors) throw new Error(JSON.stringify(started.errors));
      pending.push({ userId, token, secret: started.data.startTotpSetup.secret });
    }

    const outcomes: Outcome[] = [];
    let running = true;
    const ticker = setInterval(() => app.clock.advance(30_000), 1_000);

    const loginWorker = (user: EnrolledUser, index: number) =>
      codeCheckingWorker(app.url, user, index, app.clock, loginService, outcomes, () => running);

    // Confirmations: a shared queue; one refused for want of the database goes to the back.
    const queue = [...pending];
    const confirmWorker = async () => {
      for (let i = 0; running && i < 5_000; i += 1) {
        const user = queue.shift();
        if (!user) return;
        const code = totpCodeAt(user.secret, app.clock.now());
        const outcome = await timedGql(
          app.url,
          'confirmTotpSetup',
          CONFIRM_TOTP,
          { c: code },
          { token: user.token, codeCheck: true, note: user.userId },
        );
        outcomes.push(outcome);
        if (succeeded(outcome)) {
          user.confirmed = 'answered';
          expect(outcome.data.confirmTotpSetup.recoveryCodes).toHaveLength(10);
        } else if (outcome.code === 'NOT_FOUND') {
          // Committed, but the answer was lost with the database: nothing pending any more.
          user.confirmed = 'found-done';
        } else {
          queue.push(user);
          await sleep(20);
        }
      }
    };

    const workers = [
      ...enrolled.map((user, index) => loginWorker(user, index)),
      ...Array.from({ length: 4 }, () => confirmWorker()),
    ];

    let killAt = 0;
    let faultFrom = 0;
    let restartAt = 0;
    let readyAgainMs = -1;
    let faultReadiness: { status: number; body: any } | undefined;
    let snapshot: Record<
      string,
      { factor: number; enabled: number; codes: number; pending: number; enabledEvents: number }
    > = {};
    const answeredBeforeKill = new Set<string>();
    try {
      // Kill once confirmations are well under way.
      await eventually(
        '10 confirmations',
        async () => pending.filter((user) => user.confirmed).length >= 10,
        20_000,
        2,
      );
      await eventually('requests in flight', async () => requestsInFlight() >= 3, 5_000, 1);
      killAt = Date.now();
      for (const user of pending) if (user.confirmed) answeredBeforeKill.add(user.userId);
      await mariadb.kill();
      faultFrom = Date.now();
      await eventually(
        '/readyz 503',
        async () => {
          faultReadiness = await readyz(app.url);
          return faultReadiness.status === 503;
        },
        5_000,
      );
      await sleep(2_500);
      faultReadiness = await readyz(app.url);
      restartAt = Date.now();
      await mariadb.start();

      // Right after the restart (crash recovery done), in one consistent snapshot: each pending user
      // has either all of a confirmation (factor, two-factor on, 10 codes, setup gone) or none of it.
      const inspector = await createConnection({ uri: databaseUrl });
      await inspector.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await inspector.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
      snapshot = await stateOf(
        inspector,
        pending.map((user) => user.userId),
      );
      await inspector.query('COMMIT');
      await inspector.end();

      readyAgainMs = await eventually('/readyz 200 again', async () => (await readyz(app.url)).status === 200, 20_000);
      await eventually(
        'a code check succeeding after the restart',
        async () => outcomes.some((o) => o.codeCheck && o.started > restartAt && succeeded(o)),
        10_000,
      );
      await eventually('every pending user confirmed', async () => pending.every((user) => user.confirmed), 20_000);
    } finally {
      running = false;
      clearInterval(ticker);
      await Promise.all(workers);
    }

    // Every answer: complete, contract-shaped, no 5xx, within a few seconds.
    expect(describeOutcomes(improperAnswers(outcomes))).toBe('');
    expect(describeOutcomes(outcomes.filter((o) => o.ended - o.started > 5_000))).toBe('');
    // Requests (confirmations among them) were in flight when the database died.
    const inFlight = outcomes.filter((o) => o.started <= killAt && o.ended >= killAt);
    expect(inFlight.length).toBeGreaterThanOrEqual(3);

    // Wholly within the outage: code checks, reads and challenge opening all SERVICE_UNAVAILABLE.
    const inOutage = outcomes.filter((o) => o.started >= faultFrom && o.ended <= restartAt);
    expect(inOutage.filter((o) => o.codeCheck).length).toBeGreaterThanOrEqual(10);
    expect(inOutage.filter((o) => o.op === 'me').length).toBeGreaterThanOrEqual(1);
    expect(describeOutcomes(inOutage.filter((o) => o.code !== 'SERVICE_UNAVAILABLE'))).toBe('');
    expect(faultReadiness).toEqual({ status: 503, body: { status: 'unavailable', failed: ['database'] } });
    expect(readyAgainMs).toBeLessThan(15_000);

    // Nothing half-written, and every success answered before the crash survived it.
    const halfWritten = Object.entries(snapshot).filter(([, s]) => !isAllOrNothing(s));
    expect(halfWritten).toEqual([]);
    for (const userId of answeredBeforeKill) expect([userId, snapshot[userId].factor]).toEqual([userId, 1]);

    // In the end every confirmation went through exactly once.
    const inspector = await createConnection({ uri: databaseUrl });
    try {
      const final = await stateOf(
        inspector,
        pending.map((user) => user.userId),
      );
      const notOn = Object.entries(final).filter(
        ([, s]) => !(s.factor === 1 && s.enabled === 1 && s.codes === 10 && s.pending === 0 && s.enabledEvents === 1),
      );
      expect(notOn).toEqual([]);
    } finally {
      await inspector.end();
    }

    // And afterwards, deterministically: a login with a right code.
    app.clock.advance(60_000);
    const challenge = await app.gql(START, { u: enrolled[0].userId }, loginService);
    expect(challenge.errors).toBeUndefined();
    const result = await app.gql(VERIFY, {
      id: challenge.data.startLoginChallenge.id,
      c: totpCodeAt(enrolled[0].secret, app.clock.now()),
    });
    expect(result.data?.verifyLoginChallenge?.method).toBe('TOTP');

    const inSnapshotOn = Object.values(snapshot).filter((s) => s.factor === 1).length;
    console.log(
      `mariadb fault: ${outcomes.length} requests, ${inFlight.length} in flight at the kill (${inFlight.filter((o) => o.op === 'confirmTotpSetup').length} confirmations), ` +
        `${inOutage.length} wholly in the outage (all SERVICE_UNAVAILABLE); ${answeredBeforeKill.size} confirmations answered before the kill, ` +
        `${inSnapshotOn} on at restart, ${pending.filter((u) => u.confirmed === 'found-done').length} committed with the answer lost; ` +
        `readyz 200 ${readyAgainMs} ms after restart; max latency ${Math.max(...outcomes.map((o) => o.ended - o.started))} ms`,
    );
  }, 90_000);
});

type State = { factor: number; enabled: number; codes: number; pending: number; enabledEvents: number };

async function stateOf(
  connection: Awaited<ReturnType<typeof createConnection>>,
  userIds: string[],
): Promise<Record<string, State>> {
  const count = async (sql: string) => {
    const [rows] = await connection.query<any[]>(sql, [userIds]);
    return new Map(rows.map((row) => [row.id as string, Number(row.n)]));
  };
  const factors = await count(
    'SELECT user_id AS id, COUNT(*) AS n FROM totp_factors WHERE user_id IN (?) GROUP BY user_id',
  );
  const enabled = await count('SELECT id, two_factor_enabled AS n FROM users WHERE id IN (?)');
  const codes = await count(
    'SELECT user_id AS id, COUNT(*) AS n FROM recovery_codes WHERE user_id IN (?) AND used_at IS NULL GROUP BY user_id',
  );
  const pending = await count(
    "SELECT user_id AS id, COUNT(*) AS n FROM pending_setups WHERE user_id IN (?) AND method = 'TOTP' GROUP BY user_id",
  );
  const events = await count(
    "SELECT user_id AS id, COUNT(*) AS n FROM audit_events WHERE user_id IN (?) AND action = 'TWO_FACTOR_ENABLED' GROUP BY user_id",
  );
  return Object.fromEntries(
    userIds.map((id) => [
      id,
      {
        factor: factors.get(id) ?? 0,
        enabled: enabled.get(id) ?? 0,
        codes: codes.get(id) ?? 0,
        pending: pending.get(id) ?? 0,
        enabledEvents: events.get(id) ?? 0,
      },
    ]),
  );
}

function isAllOrNothing(state: State): boolean {
  const all =
    state.factor === 1 && state.enabled === 1 && state.codes === 10 && state.pending === 0 && state.enabledEvents === 1;
  const none =
    state.factor === 0 && state.enabled === 0 && state.codes === 0 && state.pending === 1 && state.enabledEvents === 0;
  return all || none;
}
