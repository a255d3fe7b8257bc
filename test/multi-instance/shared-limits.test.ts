import { randomBytes, randomInt } from 'node:crypto';
import { ManualClock } from '../../src/infra/clock';
import { FakeSns } from '../support/fake-sns';
import {
  createTestDatabase,
  errorCode,
  type GqlResult,
  startTestApp,
  type TestApp,
  uniqueId,
} from '../support/test-app';
import { currentTotp, enrollSms, enrollTotp, nextStep } from '../support/two-factor';

const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const START_SMS = 'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';

let phoneCounter = randomInt(0, 9000);
const newPhone = () => `+1415555${String(1000 + (phoneCounter++ % 9000)).padStart(4, '0')}`;

/**
 * Two instances of the service, as behind a load balancer: one database, one
 * Redis with the same key prefix, one clock. Requests alternate between them;
 * every limit and every single-use rule must hold across both.
 */
describe('two instances sharing one database and one store', () => {
  const sns = new FakeSns();
  const clock = new ManualClock(new Date());
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let a: TestApp;
  let b: TestApp;
  let loginService: string;

  beforeAll(async () => {
    await sns.start();
    database = await createTestDatabase();
    const options = {
      databaseUrl: database.url,
      clock,
      storeKeyPrefix: `tf:multi:${randomBytes(4).toString('hex')}:`,
      env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url },
    };
    a = await startTestApp(options);
    b = await startTestApp(options);
    loginService = await a.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
    await database?.drop();
    await sns.stop();
  });

  /** A on even turns, B on odd ones. */
  const on = (turn: number) => (turn % 2 === 0 ? a : b);
  const open = async (t: TestApp, userId: string): Promise<string> => {
    const result = await t.gql(START, { u: userId }, loginService);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data.startLoginChallenge.id;
  };
  const codes = (results: GqlResult<unknown>[]) => results.map((result) => (result.errors ? errorCode(result) : 'OK'));
  const tally = (results: GqlResult<unknown>[]) =>
    codes(results).reduce<Record<string, number>>(
      (counts, code) => ({ ...counts, [code!]: (counts[code!] ?? 0) + 1 }),
      {},
    );

  it('the instances really are two servers', () => {
    expect(a.url).not.toBe(b.url);
    expect(a.app).not.toBe(b.app);
  });

  describe('the per-user failure limit (10 in 15 minutes)', () => {
    it('counts failures on both instances in one window: the 11th attempt is RATE_LIMITED on either, even with a right code', async () => {
      const user = await enrollTotp(a, uniqueId('multi-limit'));
      for (let turn = 0; turn < 10; turn += 1) {
        // Step-ups and logins alternate too: every operation counts in the same window.
        const result =
          turn % 4 < 2
            ? await on(turn).gql(VIEW, { c: '000000' }, user.token)
            : await on(turn).gql(VERIFY, { id: await open(on(turn + 1), user.userId), c: '000000' });
        expect([turn, errorCode(result)]).toEqual([turn, 'INVALID_CODE']);
      }
      const right = currentTotp(a, user.secret);
      const limitedA = await a.gql(VIEW, { c: right }, user.token);
      const limitedB = await b.gql(VERIFY, { id: await open(a, user.userId), c: right });
      expect([errorCode(limitedA), errorCode(limitedB)]).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
      expect(limitedB.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
      expect(limitedB.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
    });

    it('gives 20 parallel wrong guesses split across both instances exactly 10 checks', async () => {
      const user = await enrollTotp(b, uniqueId('multi-parallel'));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, turn) => on(turn).gql(VIEW, { c: String(100000 + turn) }, user.token)),
      );
      expect(tally(results)).toEqual({ INVALID_CODE: 10, RATE_LIMITED: 10 });
      const [row] = await a.sql('SELECT failed_attempts_in_row AS failures FROM users WHERE id = ?', [user.userId]);
      expect(row.failures).toBe(10);
    });
  });

  describe('TOTP replay protection', () => {
    it('a code used on A is refused on B (and a code used on B on A)', async () => {
      const user = await enrollTotp(a, uniqueId('multi-replay'));
      const code = currentTotp(a, user.secret);
      expect((await a.gql(VIEW, { c: code }, user.token)).errors).toBeUndefined();
      expect(errorCode(await b.gql(VIEW, { c: code }, user.token))).toBe('INVALID_CODE');
      expect(errorCode(await b.gql(VERIFY, { id: await open(b, user.userId), c: code }))).toBe('INVALID_CODE');
      nextStep(a);
      const next = currentTotp(b, user.secret);
      expect((await b.gql(VERIFY, { id: await open(a, user.userId), c: next })).data.verifyLoginChallenge.method).toBe(
        'TOTP',
      );
      expect(errorCode(await a.gql(VIEW, { c: next }, user.token))).toBe('INVALID_CODE');
      // An older step than the last one used is refused as well.
      expect(errorCode(await a.gql(VIEW, { c: currentTotp(a, user.secret, -1) }, user.token))).toBe('INVALID_CODE');
    });

    it('20 parallel uses of one code split across A and B: exactly one success', async () => {
      const user = await enrollTotp(b, uniqueId('multi-race'));
      const code = currentTotp(a, user.secret);
      const challenges = await Promise.all(Array.from({ length: 10 }, (_, turn) => open(on(turn), user.userId)));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, turn) =>
          turn < 10
            ? on(turn).gql(VIEW, { c: code }, user.token)
            : on(turn).gql(VERIFY, { id: challenges[turn - 10], c: code }),
        ),
      );
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      expect(codes(results).filter((code) => !['OK', 'INVALID_CODE', 'RATE_LIMITED'].includes(code!))).toEqual([]);
    });
  });

  describe('login challenges', () => {
    it('a challenge opened on A is verified on B, and is then spent on both', async () => {
      const user = await enrollTotp(a, uniqueId('multi-challenge'));
      const challenge = await open(a, user.userId);
      const verified = await b.gql(VERIFY, { id: challenge, c: currentTotp(b, user.secret) });
      expect(verified.data.verifyLoginChallenge).toEqual({ userId: user.userId, method: 'TOTP' });
      expect(errorCode(await a.gql(VERIFY, { id: challenge, c: user.recoveryCodes[0] }))).toBe('CHALLENGE_NOT_FOUND');
      expect(errorCode(await b.gql(VERIFY, { id: challenge, c: user.recoveryCodes[1] }))).toBe('CHALLENGE_NOT_FOUND');
      // The recovery codes were not spent by those refusals.
      expect((await a.gql(VIEW, { c: user.recoveryCodes[0] }, user.token)).errors).toBeUndefined();
    });

    it('its five attempts span both instances', async () => {
      const user = await enrollTotp(b, uniqueId('multi-tries'));
      const challenge = await open(b, user.userId);
      for (let turn = 0; turn < 5; turn += 1) {
        expect([turn, errorCode(await on(turn).gql(VERIFY, { id: challenge, c: '000000' }))]).toEqual([
          turn,
          'INVALID_CODE',
        ]);
      }
      expect(errorCode(await b.gql(VERIFY, { id: challenge, c: user.recoveryCodes[0] }))).toBe('CHALLENGE_NOT_FOUND');
      expect(errorCode(await a.gql(VERIFY, { id: challenge, c: currentTotp(a, user.secret) }))).toBe(
        'CHALLENGE_NOT_FOUND',
      );
    });

    it('20 parallel right answers to one challenge split across A and B: exactly one success', async () => {
      const user = await enrollTotp(a, uniqueId('multi-spend'));
      const challenge = await open(a, user.userId);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, turn) =>
          on(turn).gql(VERIFY, {
            id: challenge,
            c: turn % 2 === 0 ? currentTotp(a, user.secret) : user.recoveryCodes[turn % 10],
          }),
        ),
      );
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      expect(
        codes(results).filter((code) => !['OK', 'INVALID_CODE', 'RATE_LIMITED', 'CHALLENGE_NOT_FOUND'].includes(code!)),
      ).toEqual([]);
      // At most one recovery code went: only the winner's answer, if it was one, was spent.
      const [row] = await b.sql(
        'SELECT COUNT(*) AS used FROM recovery_codes WHERE user_id = ? AND used_at IS NOT NULL',
        [user.userId],
      );
      expect(Number(row.used)).toBe(
        results.find((result) => !result.errors)!.data.verifyLoginChallenge.method === 'RECOVERY_CODE' ? 1 : 0,
      );
    });
  });

  describe('SMS', () => {
    it('one send per number and purpose every 30 s, across instances, and the code works on the other instance once', async () => {
      const user = await enrollSms(a, sns, uniqueId('multi-sms'), newPhone());
      expect((await a.gql(SEND, {}, user.token)).errors).toBeUndefined();
      const again = await b.gql(SEND, {}, user.token);
      expect(errorCode(again)).toBe('RATE_LIMITED');
      expect(again.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(30);
      const code = sns.lastCodeTo(user.phone);
      expect((await b.gql(VIEW, { c: code }, user.token)).errors).toBeUndefined();
      expect(errorCode(await a.gql(VIEW, { c: code }, user.token))).toBe('INVALID_CODE');
    });

    it('10 parallel sends for one purpose split across instances: exactly one goes out', async () => {
      const user = await enrollSms(b, sns, uniqueId('multi-sms-race'), newPhone());
      const before = sns.codesTo(user.phone).length;
      const results = await Promise.all(Array.from({ length: 10 }, (_, turn) => on(turn).gql(SEND, {}, user.token)));
      expect(tally(results)).toEqual({ OK: 1, RATE_LIMITED: 9 });
      expect(sns.codesTo(user.phone).length).toBe(before + 1);
    });

    it('a login code sent through B answers the challenge on A, once, and is bound to that challenge', async () => {
      const user = await enrollSms(a, sns, uniqueId('multi-sms-login'), newPhone());
      const challenge = await open(a, user.userId);
      const other = await open(b, user.userId);
      expect((await b.gql(SEND_LOGIN, { id: challenge })).errors).toBeUndefined();
      expect(errorCode(await a.gql(SEND_LOGIN, { id: challenge }))).toBe('RATE_LIMITED');
      const code = sns.lastCodeTo(user.phone);
      expect(errorCode(await b.gql(VERIFY, { id: other, c: code }))).toBe('INVALID_CODE');
      expect(errorCode(await b.gql(VIEW, { c: code }, user.token))).toBe('INVALID_CODE');
      expect((await a.gql(VERIFY, { id: challenge, c: code })).data.verifyLoginChallenge.method).toBe('SMS');
      expect(errorCode(await b.gql(VERIFY, { id: other, c: code }))).toBe('INVALID_CODE');
    });

    it('5 sends an hour per user, counted across instances', async () => {
      const token = await a.token(uniqueId('multi-sms-user'), [], { authTime: clock.now() });
      for (let turn = 0; turn < 5; turn += 1) {
        expect([turn, (await on(turn).gql(START_SMS, { p: newPhone() }, token)).errors]).toEqual([turn, undefined]);
      }
      expect(errorCode(await a.gql(START_SMS, { p: newPhone() }, token))).toBe('RATE_LIMITED');
      expect(errorCode(await b.gql(START_SMS, { p: newPhone() }, token))).toBe('RATE_LIMITED');
    });

    it('5 sends an hour per number, whoever asks on whichever instance', async () => {
      const phone = newPhone();
      for (let turn = 0; turn < 5; turn += 1) {
        const token = await a.token(uniqueId('multi-sms-number'), [], { authTime: clock.now() });
        expect([turn, (await on(turn).gql(START_SMS, { p: phone }, token)).errors]).toEqual([turn, undefined]);
      }
      const token = await a.token(uniqueId('multi-sms-number'), [], { authTime: clock.now() });
      expect(errorCode(await a.gql(START_SMS, { p: phone }, token))).toBe('RATE_LIMITED');
      expect(errorCode(await b.gql(START_SMS, { p: phone }, token))).toBe('RATE_LIMITED');
    });
  });
});
