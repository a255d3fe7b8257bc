import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { SecretBox } from '../../../src/infra/crypto/cipher';
import { FakeSns } from '../../support/fake-sns';
import { REDIS_URL } from '../../support/services';
import { ENCRYPTION_KEY, errorCode, startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { enrollSms } from '../../support/two-factor';

const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method } }';
const START_SMS = 'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';

let phoneCounter = randomInt(0, 9000);
const newPhone = () => `+1415555${String(1000 + (phoneCounter++ % 9000)).padStart(4, '0')}`;

/** How an unkeyed hash of `value` could be written; a prefix, since keys may hold a truncated one. */
function unkeyedHashes(value: string): string[] {
  const digest = createHash('sha256').update(value).digest();
  return [digest.toString('hex'), digest.toString('base64'), digest.toString('base64url')].map((text) =>
    text.slice(0, 12),
  );
}

/**
 * A reader of Redis (a dump, a replica, a MONITOR) learns no phone number, no
 * challenge id, no user id, and no tie between a user and a number: every key and value
 * derived from them is a keyed hash, so guessing all numbers of a country gets
 * nowhere without the service's key.
 */
describe('store keys and values after SMS setup, step-up and login', () => {
  const sns = new FakeSns();
  const prefix = `tf:keys:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  let t: TestApp;

  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ storeKeyPrefix: prefix, env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url } });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
    redis.disconnect();
  });

  /** Every key under the prefix, with its value (strings, hashes, lists, sets, sorted sets). */
  async function dump(): Promise<{ key: string; value: string }[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return Promise.all(
      keys.map(async (key) => {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? JSON.stringify(await redis.hgetall(key))
              : type === 'list'
                ? JSON.stringify(await redis.lrange(key, 0, -1))
                : type === 'set'
                  ? JSON.stringify(await redis.smembers(key))
                  : type === 'zset'
                    ? JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'))
                    : `(${type})`;
        return { key: key.slice(prefix.length), value: value ?? '' };
      }),
    );
  }

  it('holds no phone number, challenge id or plain hash of either, and ties no user to a number', async () => {
    const loginService = await t.token('login-service', ['twofactor:login']);
    // A confirmed number, its step-up codes (one used, one wrong), its login codes.
    const user = await enrollSms(t, sns, uniqueId('keys-user'), newPhone());
    expect((await t.gql(SEND, {}, user.token)).errors).toBeUndefined();
    expect((await t.gql(VIEW, { c: sns.lastCodeTo(user.phone) }, user.token)).errors).toBeUndefined();
    expect(errorCode(await t.gql(VIEW, { c: '000000' }, user.token))).toBe('INVALID_CODE');
    const spent = (await t.gql(START_LOGIN, { u: user.userId }, loginService)).data.startLoginChallenge.id as string;
    expect((await t.gql(SEND_LOGIN, { id: spent })).errors).toBeUndefined();
    expect(errorCode(await t.gql(VERIFY, { id: spent, c: '000000' }))).toBe('INVALID_CODE');
    expect((await t.gql(VERIFY, { id: spent, c: sns.lastCodeTo(user.phone) })).data.verifyLoginChallenge.method).toBe(
      'SMS',
    );
    // A login still open, with its code sent and one wrong try.
    const open = (await t.gql(START_LOGIN, { u: user.userId }, loginService)).data.startLoginChallenge.id as string;
    expect((await t.gql(SEND_LOGIN, { id: open })).errors).toBeUndefined();
    expect(errorCode(await t.gql(VERIFY, { id: open, c: '000000' }))).toBe('INVALID_CODE');
    // Another user's setup, pending, and a second user setting up the same number.
    const pendingUser = uniqueId('keys-pending');
    const pendingPhone = newPhone();
    expect(
      (await t.gql(START_SMS, { p: pendingPhone }, await t.token(pendingUser, [], { authTime: t.clock.now() }))).errors,
    ).toBeUndefined();
    expect(
      (
        await t.gql(
          START_SMS,
          { p: user.phone },
          await t.token(uniqueId('keys-other'), [], { authTime: t.clock.now() }),
        )
      ).errors,
    ).toBeUndefined();

    const entries = await dump();
    // Not vacuous: challenges, codes and every family of limits are there.
    const families = new Set(
      entries.map(({ key }) => key.replace(/[:{].*$/, '') + (key.startsWith('limit:') ? `:${key.split(':')[1]}` : '')),
    );
    expect([...families].sort()).toEqual(
      expect.arrayContaining([
        'challenge',
        'challenge-attempts',
        'sms-code',
        'sms-checks',
        'limit:sms-resend',
        'limit:sms-hour',
        'limit:sms-day',
        'limit:sms-budget',
        // The user's failure window is on the user's row (ADR 0013); the IP's is the answer script's.
        'ip-attempts',
      ]),
    );

    const box = new SecretBox(Buffer.from(ENCRYPTION_KEY, 'base64'));
    const phoneDerived = (phone: string) => {
      const digits = phone.slice(1);
      const national = digits.slice(1);
      return [phone, digits, national, ...unkeyedHashes(phone), ...unkeyedHashes(digits), ...unkeyedHashes(national)];
    };
    const forbidden = [
      ...[user.phone, pendingPhone].flatMap(phoneDerived),
      ...[spent, open].flatMap((id) => [id, ...unkeyedHashes(id), ...unkeyedHashes(`login:${id}`)]),
      ...[user.userId, pendingUser].flatMap((id) => [
        ...unkeyedHashes(`setup:${id}`),
        ...unkeyedHashes(`step-up:${id}`),
      ]),
    ];
    for (const { key, value } of entries) {
      for (const secret of forbidden) {
        expect({ key, value, contains: key.includes(secret) || value.includes(secret) ? secret : null }).toEqual({
          key,
          value,
          contains: null,
        });
      }
      // No key or value names a user (issue 21, finding 11: a challenge's value held its user id in clear),
      // and no value ties a user to a number, not even by a keyed hash.
      for (const userId of [user.userId, pendingUser]) {
        expect({ key, value, user: key.includes(userId) || value.includes(userId) }).toEqual({
          key,
          value,
          user: false,
        });
      }
      for (const phone of [user.phone, pendingPhone])
        expect({ key, value, keyed: value.includes(box.hash(phone)) }).toEqual({ key, value, keyed: false });
    }
  });
});
