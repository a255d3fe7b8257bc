import { jwtVerify } from 'jose';
import { eventually } from '../support/eventually';
import { FakeSns } from '../support/fake-sns';
import { PrivateRedis, freePort } from '../support/private-redis';
import { ASSERTION_SECRET, errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollSms, enrollTotp, nextStep } from '../support/two-factor';

const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id userId methods phoneNumberMasked expiresAt } }';
const SEND = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked codeExpiresAt } }';
const VERIFY =
  'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method assertion recoveryCodesRemaining } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';

describe('logging in with a second factor', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let loginService: string;

  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url } });
    loginService = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  const open = async (userId: string) => {
    const result = await t.gql(START, { u: userId }, loginService);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data.startLoginChallenge as {
      id: string;
      methods: string[];
      expiresAt: string;
      phoneNumberMasked: string | null;
    };
  };
  const verify = (id: string, code: string) => t.gql(VERIFY, { id, c: code });

  async function verifyAssertion(assertion: string) {
    return (
      await jwtVerify(assertion, new TextEncoder().encode(ASSERTION_SECRET), {
        issuer: 'twofactor',
        audience: 'login',
        algorithms: ['HS256'],
        currentDate: t.clock.now(),
      })
    ).payload;
  }

  it('needs the twofactor:login scope to open a challenge', async () => {
    expect(errorCode(await t.gql(START, { u: 'alice' }, await t.token('alice')))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(START, { u: 'alice' }))).toBe('UNAUTHENTICATED');
  });

  it('opens an unguessable challenge naming the methods the user can answer with', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    expect(challenge.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(challenge.methods).toEqual(['TOTP', 'RECOVERY_CODE']);
    expect(challenge.phoneNumberMasked).toBeNull();
    expect(new Date(challenge.expiresAt).getTime() - t.clock.now().getTime()).toBe(5 * 60 * 1000);
  });

  it("logs in with a TOTP code: an HS256 assertion with the contract's claims", async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    const result = (await verify(challenge.id, currentTotp(t, user.secret))).data.verifyLoginChallenge;
    expect(result).toMatchObject({ userId: user.userId, method: 'TOTP', recoveryCodesRemaining: 10 });
    const claims = await verifyAssertion(result.assertion);
    expect(claims).toMatchObject({ iss: 'twofactor', aud: 'login', sub: user.userId, amr: ['otp'], jti: challenge.id });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    const [totp] = await t.sql('SELECT last_used_at FROM totp_factors WHERE user_id = ?', [user.userId]);
    expect(new Date(totp.last_used_at).getTime()).toBe(t.clock.now().getTime());
    const [event] = await t.sql("SELECT reason FROM audit_events WHERE user_id = ? AND action = 'LOGIN_VERIFIED'", [
      user.userId,
    ]);
    expect(event.reason).toBe('TOTP');
  });

  it('logs in with a recovery code, which is then used up', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const result = (await verify((await open(user.userId)).id, user.recoveryCodes[4])).data.verifyLoginChallenge;
    expect(result).toMatchObject({ method: 'RECOVERY_CODE', recoveryCodesRemaining: 9 });
    expect((await verifyAssertion(result.assertion)).amr).toEqual(['recovery']);
    expect(errorCode(await verify((await open(user.userId)).id, user.recoveryCodes[4]))).toBe('INVALID_CODE');
  });

  it("logs in with the challenge's SMS code, which serves no other purpose", async () => {
    const phone = '+14155550188';
    const { userId, token } = await enrollSms(t, sns, uniqueId('u'), phone);
    const challenge = await open(userId);
    expect(challenge.methods).toEqual(['SMS', 'RECOVERY_CODE']);
    expect(challenge.phoneNumberMasked).toBe('+1 ••• ••• 0188');
    expect((await t.gql(SEND, { id: challenge.id })).data.sendLoginSmsCode.phoneNumberMasked).toBe('+1 ••• ••• 0188');
    const loginCode = sns.lastCodeTo(phone);
    // Not a step-up code, and another challenge's code does not fit this one.
    expect(errorCode(await t.gql(VIEW, { c: loginCode }, token))).toBe('INVALID_CODE');
    const result = (await verify(challenge.id, loginCode)).data.verifyLoginChallenge;
    expect(result.method).toBe('SMS');
    expect((await verifyAssertion(result.assertion)).amr).toEqual(['sms']);
  });

  it('a login SMS code does not answer another challenge', async () => {
    const phone = '+14155550177';
    const { userId } = await enrollSms(t, sns, uniqueId('u'), phone);
    const first = await open(userId);
    const second = await open(userId);
    await t.gql(SEND, { id: first.id });
    expect(errorCode(await verify(second.id, sns.lastCodeTo(phone)))).toBe('INVALID_CODE');
  });

  it('a TOTP code spent in a step-up cannot log in, and the other way round', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const code = currentTotp(t, user.secret);
    expect((await t.gql(VIEW, { c: code }, user.token)).errors).toBeUndefined();
    expect(errorCode(await verify((await open(user.userId)).id, code))).toBe('INVALID_CODE');
    nextStep(t);
    const next = currentTotp(t, user.secret);
    expect((await verify((await open(user.userId)).id, next)).errors).toBeUndefined();
    expect(errorCode(await t.gql(VIEW, { c: next }, user.token))).toBe('INVALID_CODE');
  });

  it('a user without two-factor gets a challenge with no methods that nothing verifies', async () => {
    const challenge = await open(uniqueId('nobody'));
    expect(challenge.methods).toEqual([]);
    expect(errorCode(await verify(challenge.id, '123456'))).toBe('INVALID_CODE');
    expect(errorCode(await verify(challenge.id, 'AAAAA-AAAAA-AAAAA-AAAAA-AAAAA'))).toBe('INVALID_CODE');
  });

  it('a challenge expires after 5 minutes (injected clock)', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    t.clock.advance(5 * 60 * 1000 + 1);
    expect(errorCode(await verify(challenge.id, currentTotp(t, user.secret)))).toBe('CHALLENGE_NOT_FOUND');
    expect(errorCode(await t.gql(SEND, { id: challenge.id }))).toBe('CHALLENGE_NOT_FOUND');
  });

  it('a challenge is spent by its first success', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    expect((await verify(challenge.id, currentTotp(t, user.secret))).errors).toBeUndefined();
    expect(errorCode(await verify(challenge.id, user.recoveryCodes[0]))).toBe('CHALLENGE_NOT_FOUND');
  });

  it('a challenge allows 5 attempts, then is exhausted even for a right code', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    for (let i = 0; i < 5; i += 1) expect(errorCode(await verify(challenge.id, '000000'))).toBe('INVALID_CODE');
    expect(errorCode(await verify(challenge.id, user.recoveryCodes[0]))).toBe('CHALLENGE_NOT_FOUND');
  });

  it('sends no SMS for an exhausted challenge', async () => {
    const { userId } = await enrollSms(t, sns, uniqueId('u'), '+14155550166');
    const challenge = await open(userId);
    for (let i = 0; i < 5; i += 1) await verify(challenge.id, '000000');
    const before = sns.requests;
    expect(errorCode(await t.gql(SEND, { id: challenge.id }))).toBe('CHALLENGE_NOT_FOUND');
    expect(sns.requests).toBe(before);
  });

  it('unknown challenge ids are CHALLENGE_NOT_FOUND', async () => {
    for (const id of ['x', 'A'.repeat(24), '', 'a b', '🙂'.repeat(10)])
      expect(errorCode(await verify(id, '123456'))).toBe('CHALLENGE_NOT_FOUND');
  });

  it("another user's code does not answer a challenge", async () => {
    const alice = await enrollTotp(t, uniqueId('alice'));
    const bob = await enrollTotp(t, uniqueId('bob'));
    const challenge = await open(alice.userId);
    expect(errorCode(await verify(challenge.id, currentTotp(t, bob.secret)))).toBe('INVALID_CODE');
    expect(errorCode(await verify(challenge.id, bob.recoveryCodes[0]))).toBe('INVALID_CODE');
  });

  it("a wrong login code spends the user's count and the challenge's tries, and is audited", async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    await verify((await open(user.userId)).id, '999999');
    const [row] = await t.sql('SELECT failed_attempts_in_row AS failures FROM users WHERE id = ?', [user.userId]);
    expect(row.failures).toBe(1);
    const events = await t.sql("SELECT client_ip FROM audit_events WHERE user_id = ? AND action = 'LOGIN_FAILED'", [
      user.userId,
    ]);
    expect(events).toEqual([{ client_ip: '127.0.0.1' }]);
  });

  it('refuses a document with two code-checking fields (aliases) before either runs', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    const code = currentTotp(t, user.secret);
    const result = await t.gql(
      `mutation($id: ID!) { a: verifyLoginChallenge(challengeId: $id, code: "000000") { userId } b: verifyLoginChallenge(challengeId: $id, code: "${code}") { userId } }`,
      { id: challenge.id },
    );
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.data).toBeUndefined();
    const viaFragment = await t.gql(
      `mutation($id: ID!) { ...guess verifyLoginChallenge(challengeId: $id, code: "000001") { userId } } fragment guess on Mutation { disableTwoFactor(code: "000002") { enabled } }`,
      { id: challenge.id },
    );
    expect(errorCode(viaFragment)).toBe('BAD_USER_INPUT');
    // Nothing was counted: the challenge still takes the right code.
    expect((await verify(challenge.id, code)).errors).toBeUndefined();
  });

  it('30 parallel verifications of one right code on one challenge: exactly one success', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenge = await open(user.userId);
    const code = currentTotp(t, user.secret);
    const results = await Promise.all(Array.from({ length: 30 }, () => verify(challenge.id, code)));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
    expect(
      results.every(
        (result) =>
          !result.errors || ['INVALID_CODE', 'RATE_LIMITED', 'CHALLENGE_NOT_FOUND'].includes(errorCode(result)!),
      ),
    ).toBe(true);
  });

  it('30 parallel verifications of one recovery code across challenges: exactly one success', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const challenges = await Promise.all(Array.from({ length: 30 }, () => open(user.userId)));
    const results = await Promise.all(challenges.map((challenge) => verify(challenge.id, user.recoveryCodes[1])));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
  });

  it('a locked user gets TWO_FACTOR_LOCKED before anything else', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    await t.sql('UPDATE users SET failed_attempts_in_row = 100 WHERE id = ?', [user.userId]);
    const challenge = await open(user.userId);
    expect(errorCode(await verify(challenge.id, currentTotp(t, user.secret)))).toBe('TWO_FACTOR_LOCKED');
    expect((await verify(challenge.id, user.recoveryCodes[0])).data.verifyLoginChallenge.method).toBe('RECOVERY_CODE');
  });

  it('RATE_LIMITED comes before CHALLENGE_NOT_FOUND and INVALID_CODE', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    for (let i = 0; i < 10; i += 1) await verify((await open(user.userId)).id, 'wrong');
    const challenge = await open(user.userId);
    for (let i = 0; i < 5; i += 1) await verify(challenge.id, 'wrong');
    expect(errorCode(await verify(challenge.id, currentTotp(t, user.secret)))).toBe('RATE_LIMITED');
  });
});

describe('login attempts per client IP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '5', TRUST_PROXY: '1' } });
  });
  afterAll(() => t?.close());

  it('allows 5 a minute per IP, taking the IP from X-Forwarded-For only as far as TRUST_PROXY says', async () => {
    const verify = (ip: string) =>
      t.gql(VERIFY, { id: 'A'.repeat(24), c: '123456' }, undefined, { 'x-forwarded-for': ip });
    for (let i = 0; i < 5; i += 1) expect(errorCode(await verify('203.0.113.7'))).toBe('CHALLENGE_NOT_FOUND');
    const limited = await verify('203.0.113.7');
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(limited.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(errorCode(await verify('203.0.113.8'))).toBe('CHALLENGE_NOT_FOUND');
    // A client cannot pick its address by adding hops in front of the trusted proxy's.
    for (let i = 0; i < 3; i += 1) await verify(`198.51.100.${i}, 203.0.113.9`);
    expect(errorCode(await verify('198.51.100.99, 203.0.113.9'))).toBe('CHALLENGE_NOT_FOUND');
    for (let i = 0; i < 2; i += 1) await verify('203.0.113.9');
    expect(errorCode(await verify('203.0.113.9'))).toBe('RATE_LIMITED');
  });
});

describe('login when Redis goes away', () => {
  const redis = new PrivateRedis(freePort(18000));
  let t: TestApp;
  beforeAll(async () => {
    await redis.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis.stop();
  });

  it('fails closed with SERVICE_UNAVAILABLE, never a success, and recovers by itself', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const loginService = await t.token('login-service', ['twofactor:login']);
    const challenge = (await t.gql(START, { u: user.userId }, loginService)).data.startLoginChallenge;
    await redis.stop();
    expect(errorCode(await t.gql(VERIFY, { id: challenge.id, c: currentTotp(t, user.secret) }))).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(errorCode(await t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token))).toBe('SERVICE_UNAVAILABLE');
    expect(errorCode(await t.gql(START, { u: user.userId }, loginService))).toBe('SERVICE_UNAVAILABLE');
    await redis.start();
    let reopened: { data: any; errors?: unknown } | undefined;
    await eventually(async () => !(reopened = await t.gql(START, { u: user.userId }, loginService)).errors);
    expect(
      (await t.gql(VERIFY, { id: reopened!.data.startLoginChallenge.id, c: currentTotp(t, user.secret) })).data
        .verifyLoginChallenge.method,
    ).toBe('TOTP');
  });
});
