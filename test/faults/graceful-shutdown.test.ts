import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import {
  describeOutcomes,
  eventually,
  improperAnswers,
  type Outcome,
  readyz,
  sleep,
  succeeded,
  timedGql,
} from '../support/faults';
import { freePort } from '../support/private-redis';
import { REDIS_URL } from '../support/services';
import { ASSERTION_SECRET, AUTH_SECRET, createTestDatabase, ENCRYPTION_KEY } from '../support/test-app';
import { totpCodeAt } from '../support/totp';

const START_TOTP = 'mutation { startTotpSetup { secret } }';
const CONFIRM_TOTP = 'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }';
const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';

/**
 * One HTTP/1.1 request written by hand: headers and the first bytes of the body
 * now, the rest later. Between the two the server has begun the request, so it
 * is in flight by any definition. The connection is kept alive afterwards, as a
 * proxy in front of the service would.
 */
function splitRequest(
  port: number,
  token: string,
  query: string,
): { ready: Promise<void>; finish(): void; answer: Promise<{ status: number; body: any }>; socket: Socket } {
  const body = JSON.stringify({ query });
  const socket = connect(port, '127.0.0.1');
  const ready = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
        () => resolve(),
      );
    });
    socket.once('error', reject);
  });
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = received.subarray(0, end).toString();
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
      const content = received.subarray(end + 4);
      if (content.length >= length)
        resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(content.subarray(0, length).toString()) });
    });
    socket.on('error', (error) => reject(error));
    socket.on('close', () => reject(new Error('connection closed before a complete answer')));
  });
  answer.catch(() => undefined);
  return { ready, socket, answer, finish: () => socket.write(body.slice(10)) };
}

describe('SIGTERM with requests in flight (the built service as a child process)', () => {
  const port = freePort(23000);
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-shutdown-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let child: ChildProcess | undefined;
  let output = '';
  const sockets: Socket[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    child = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: database.url,
        REDIS_URL,
        PORT: String(port),
        HOST: '127.0.0.1',
        AUTH_JWT_SECRET: AUTH_SECRET,
        ASSERTION_JWT_SECRET: ASSERTION_SECRET,
        ENCRYPTION_KEY,
        DATA_DIR: dataDir,
        IP_ATTEMPTS_PER_MINUTE: '1000000',
        LOG_LEVEL: 'info',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const spawned = child;
    process.once('exit', () => spawned.kill('SIGKILL'));
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Ready when it says so (its one "listening" line), however long a busy machine takes to get there.
    await new Promise<void>((resolve, reject) => {
      const listening = () => {
        if (output.includes('"msg":"listening"')) resolve();
      };
      child!.stdout!.on('data', listening);
      child!.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
    });
    expect((await readyz(url)).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child!.once('exit', () => resolve());
        child!.kill('SIGKILL');
      });
    }
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every request in flight completely, then exits 0', async () => {
    const loginService = await signDevelopmentToken(AUTH_SECRET, 'login-service', ['twofactor:login']);
    // Ten users with TOTP on, five challenges each.
    const users: { userId: string; token: string; recoveryCodes: string[]; challenges: string[] }[] = [];
    for (let i = 0; i < 10; i += 1) {
      const userId = `shutdown-${i}-${process.pid}`;
      const token = await signDevelopmentToken(AUTH_SECRET, userId, [], { authTime: new Date() });
      const started = await timedGql(url, 'startTotpSetup', START_TOTP, {}, { token });
      const confirmed = await timedGql(
        url,
        'confirmTotpSetup',
        CONFIRM_TOTP,
        { c: totpCodeAt(started.data.startTotpSetup.secret, new Date()) },
        { token },
      );
      expect(confirmed.errors).toBeUndefined();
      const challenges: string[] = [];
      for (let j = 0; j < 5; j += 1)
        challenges.push(
          (await timedGql(url, 'startLoginChallenge', START, { u: userId }, { token: loginService })).data
            .startLoginChallenge.id,
        );
      users.push({ userId, token, recoveryCodes: confirmed.data.confirmTotpSetup.recoveryCodes, challenges });
    }

    // Hold the users' rows, so the verifications below stop inside their transactions and stay in flight.
    const locker = await createConnection({ uri: database!.url });
    let outcomes: Outcome[] = [];
    let raw: ReturnType<typeof splitRequest>[] = [];
    let exitCode: number | null | undefined;
    let exitedAfterMs = -1;
    try {
      await locker.query('START TRANSACTION');
      await locker.query('SELECT id FROM users WHERE id IN (?) FOR UPDATE', [users.map((u) => u.userId)]);

      // 50 login verifications: per user one right recovery code and four wrong codes.
      const verifications = users.flatMap((user) =>
        user.challenges.map((challenge, j) =>
          timedGql(
            url,
            'verifyLoginChallenge',
            VERIFY,
            { id: challenge, c: j === 0 ? user.recoveryCodes[0] : '000000' },
            { codeCheck: true, timeoutMs: 30_000, note: user.userId },
          ),
        ),
      );
      // 50 `me` queries whose bodies are only half sent.
      raw = users.flatMap((user) =>
        Array.from({ length: 5 }, () => splitRequest(port, user.token, '{ me { id twoFactor { enabled methods } } }')),
      );
      sockets.push(...raw.map((request) => request.socket));
      await Promise.all(raw.map((request) => request.ready));
      await eventually(
        'verifications waiting on the row locks',
        async () => {
          const [rows] = await locker.query<any[]>(
            "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND command = 'Query' AND id <> CONNECTION_ID() AND info LIKE 'SELECT % FROM users WHERE id = % FOR UPDATE'",
            [new URL(database!.url).pathname.slice(1)],
          );
          return Number(rows[0].n) >= 10;
        },
        15_000,
        50,
      );
      await sleep(200);

      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      const signalledAt = Date.now();
      child!.kill('SIGTERM');
      await sleep(500);
      // Still draining: the requests in flight are not done.
      expect(child!.exitCode).toBeNull();
      for (const request of raw) request.finish();
      await sleep(300);
      await locker.query('COMMIT');

      outcomes = await Promise.all(verifications);
      const answers = await Promise.all(
        raw.map((request) =>
          request.answer.then(
            (answer) => ({ answer }),
            (error: Error) => ({ error: error.message }),
          ),
        ),
      );
      let timer: NodeJS.Timeout | undefined;
      exitCode = await Promise.race([
        exited,
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 30_000))),
      ]);
      clearTimeout(timer);
      exitedAfterMs = Date.now() - signalledAt;

      // Every verification: a complete answer; exactly one success per user, the rest INVALID_CODE.
      expect(describeOutcomes(improperAnswers(outcomes))).toBe('');
      for (const user of users) {
        const mine = outcomes.filter((o) => o.note === user.userId);
        expect([
          user.userId,
          mine.filter(succeeded).length,
          mine.filter((o) => o.code === 'INVALID_CODE').length,
        ]).toEqual([user.userId, 1, 4]);
      }
      // Every half-sent `me`: completed after the signal with a full 200 answer.
      const incomplete = answers.filter(
        (a) => !('answer' in a) || a.answer.status !== 200 || !a.answer.body.data?.me?.twoFactor?.enabled,
      );
      expect(incomplete).toEqual([]);
      expect(exitCode).toBe(0);
    } finally {
      await locker.end().catch(() => undefined);
    }

    // What the answers said is what the database holds.
    const check = await createConnection({ uri: database!.url });
    try {
      const [events] = await check.query<any[]>(
        "SELECT user_id, COUNT(*) AS n FROM audit_events WHERE action = 'LOGIN_VERIFIED' GROUP BY user_id",
      );
      expect(events.map((row) => [row.user_id, Number(row.n)]).sort()).toEqual(users.map((u) => [u.userId, 1]).sort());
      const [used] = await check.query<any[]>(
        'SELECT user_id, COUNT(*) AS n FROM recovery_codes WHERE used_at IS NOT NULL GROUP BY user_id',
      );
      expect(used.map((row) => [row.user_id, Number(row.n)]).sort()).toEqual(users.map((u) => [u.userId, 1]).sort());
    } finally {
      await check.end();
    }
    expect(output).toContain('shutting down');
    expect(output).not.toMatch(/shutdown failed|unhandled|"level":50/);
    console.log(
      `graceful shutdown: ${outcomes.length} verifications and ${raw.length} half-sent queries in flight at SIGTERM, all answered; exit ${exitCode} ${exitedAfterMs} ms after the signal`,
    );
  }, 60_000);
});
