import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { FakeSns } from '../support/fake-sns';
import { REDIS_URL } from '../support/services';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollSms, enrollTotp } from '../support/two-factor';

/**
 * What a reader of a database dump, of Redis, or of the logs finds after the
 * flows that handle secrets (TOTP and SMS setup, step-up, login with codes left
 * live): no SMS code, challenge id, bearer token, TOTP secret, recovery code or
 * whole phone number, in clear, anywhere. SECURITY.md cites this file.
 */

const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const START_SMS = 'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }';
const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method } }';

const phone = () => `+1415555${String(2000 + Math.floor(Math.random() * 7000)).padStart(4, '0')}`;

/** A 6-digit code as it would be written in clear: not part of a longer run of digits or of a base64 string. */
const inClear = (code: string) => new RegExp(`(?<![0-9A-Za-z+/_-])${code}(?![0-9A-Za-z+/_-])`);

describe('secrets at rest: the database, Redis and the logs after the flows that handle them', () => {
  const sns = new FakeSns();
  const prefix = `tf:rest:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  let t: TestApp;

  beforeAll(async () => {
    await sns.start();
    // debug: a log line for every request too.
    t = await startTestApp({
      storeKeyPrefix: prefix,
      env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, LOG_LEVEL: 'debug' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
    redis.disconnect();
  });

  async function redisDump(): Promise<string> {
    const entries: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? JSON.stringify(await redis.hgetall(key))
              : `(${type})`;
        entries.push(`${key} = ${value}`);
      }
      cursor = next;
    } while (cursor !== '0');
    return entries.join('\n');
  }

  async function databaseDump(): Promise<string> {
    const tables = (await t.sql('SHOW TABLES')).map((row) => String(Object.values(row)[0]));
    const rows = await Promise.all(
      tables.map(async (table) => `${table}: ${JSON.stringify(await t.sql(`SELECT * FROM \`${table}\``))}`),
    );
    return rows.join('\n');
  }

  it('holds no code, challenge id, token, TOTP secret, recovery code or whole phone number in clear', async () => {
    const loginService = await t.token('login-service', ['twofactor:login']);
    // TOTP, with a recovery code viewed.
    const totpUser = await enrollTotp(t, uniqueId('rest-totp'));
    expect((await t.gql(VIEW, { c: currentTotp(t, totpUser.secret) }, totpUser.token)).errors).toBeUndefined();
    // SMS: a confirmed number; a step-up code sent and left live; a login code used, another left live.
    const smsUser = await enrollSms(t, sns, uniqueId('rest-sms'), phone());
    expect((await t.gql(SEND, {}, smsUser.token)).errors).toBeUndefined();
    const liveStepUp = sns.lastCodeTo(smsUser.phone);
    const spent = (await t.gql(START_LOGIN, { u: smsUser.userId }, loginService)).data.startLoginChallenge.id as string;
    expect((await t.gql(SEND_LOGIN, { id: spent })).errors).toBeUndefined();
    expect(
      (await t.gql(VERIFY, { id: spent, c: sns.lastCodeTo(smsUser.phone) })).data.verifyLoginChallenge.method,
    ).toBe('SMS');
    const open = (await t.gql(START_LOGIN, { u: smsUser.userId }, loginService)).data.startLoginChallenge.id as string;
    expect((await t.gql(SEND_LOGIN, { id: open })).errors).toBeUndefined();
    expect(errorCode(await t.gql(VERIFY, { id: open, c: '000000' }))).toBe('INVALID_CODE');
    // Another user's setup of a number, pending with its code live.
    const pendingPhone = phone();
    const pendingToken = await t.token(uniqueId('rest-pending'), [], { authTime: t.clock.now() });
    expect((await t.gql(START_SMS, { p: pendingPhone }, pendingToken)).errors).toBeUndefined();

    const codes = [...new Set(sns.published.map((sms) => sms.code))];
    expect(codes).toContain(liveStepUp);
    expect(codes.length).toBeGreaterThanOrEqual(5);
    const secrets: [string, string][] = [
      ...[spent, open].map((id): [string, string] => ['challenge id', id]),
      ...[totpUser.token, smsUser.token, pendingToken, loginService].map((token): [string, string] => [
        'bearer token',
        token,
      ]),
      ['TOTP secret', totpUser.secret],
      ...[...totpUser.recoveryCodes, ...smsUser.recoveryCodes].flatMap((code): [string, string][] => [
        ['recovery code', code],
        ['recovery code', code.replace(/-/g, '')],
      ]),
      ...[smsUser.phone, pendingPhone].flatMap((number): [string, string][] => [
        ['phone number', number],
        ['phone number', number.slice(1)],
      ]),
    ];

    const places = { 'the database': await databaseDump(), Redis: await redisDump(), 'the logs': t.logs.join('\n') };
    expect(places['the database'].length).toBeGreaterThan(1000);
    expect(places.Redis).toContain('sms-code');
    const found: string[] = [];
    for (const [place, text] of Object.entries(places)) {
      for (const [what, value] of secrets)
        if (text.includes(value)) found.push(`${what} ${value.slice(0, 12)}… in ${place}`);
      for (const code of codes) if (inClear(code).test(text)) found.push(`SMS code ${code} in ${place}`);
    }
    expect(found).toEqual([]);
  });
});
