import { randomBytes, randomInt } from 'node:crypto';
import { getCountries } from 'libphonenumber-js/max';
import { ManualClock } from '../../../src/infra/clock';
import { FakeSns } from '../../support/fake-sns';
import {
  createTestDatabase,
  errorCode,
  type GqlResult,
  startTestApp,
  type TestApp,
  uniqueId,
} from '../../support/test-app';
import { enrollSms, enrollTotp } from '../../support/two-factor';

const START =
  'mutation($p: String!, $c: String, $l: String) { startSmsSetup(phoneNumber: $p, code: $c, locale: $l) { phoneNumberMasked } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const OPEN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';

let counter = randomInt(0, 90);
const next = () => counter++ % 90;
/** Fresh mobile numbers per country, so per-number limits never interfere. */
const phone = {
  US: () => `+1415555${String(1000 + (counter++ % 9000)).padStart(4, '0')}`,
  DE: () => `+491512345${String(6700 + next()).padStart(4, '0')}`,
  FR: () => `+3361234${String(5600 + next()).padStart(4, '0')}`,
  CA: () => `+1416555${String(1000 + (counter++ % 9000)).padStart(4, '0')}`,
  JP: () => '+819012345678',
};

const OUTCOMES = ['sent', 'failed', 'rate_limited', 'refused_country', 'refused_cap'];

/**
 * SMS_COUNTRY_DAILY_CAPS across two instances (one database, one store, one
 * clock), as behind a load balancer: requests alternate between them.
 */
describe('SMS caps per destination country (SMS_COUNTRY_DAILY_CAPS), across two instances', () => {
  const sns = new FakeSns();
  const clock = new ManualClock(new Date('2031-03-04T10:00:00Z'));
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
      storeKeyPrefix: `tf:caps:${randomBytes(4).toString('hex')}:`,
      env: {
        SMS_PROVIDER: 'sns',
        SNS_ENDPOINT: sns.url,
        SMS_ALLOWED_COUNTRIES: 'US,DE,FR,CA',
        SMS_COUNTRY_DAILY_CAPS: 'US:3,DE:2,*:1',
      },
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
  beforeEach(() => {
    sns.mode = 'ok';
    // Caps count per UTC day: each test starts on a day of its own.
    const now = clock.now();
    clock.set(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 10)));
  });

  const on = (turn: number) => (turn % 2 === 0 ? a : b);
  const setupToken = (t: TestApp) => t.token(uniqueId('caps'), [], { authTime: clock.now() });
  const startSetup = async (turn: number, number: string) => {
    const t = on(turn);
    return t.gql(START, { p: number }, await setupToken(t));
  };
  const codes = (results: GqlResult<unknown>[]) => results.map((result) => errorCode(result) ?? 'OK');
  const tally = (results: GqlResult<unknown>[]) =>
    codes(results).reduce<Record<string, number>>(
      (counts, code) => ({ ...counts, [code]: (counts[code] ?? 0) + 1 }),
      {},
    );

  it('never sends more than the cap, whatever the instance, for parallel sends', async () => {
    const before = sns.published.length;
    const numbers = Array.from({ length: 12 }, () => phone.US());
    const results = await Promise.all(numbers.map((number, turn) => startSetup(turn, number)));
    expect(tally(results)).toEqual({ OK: 3, SMS_NOT_ALLOWED: 9 });
    expect(sns.published.slice(before).map((sms) => sms.phoneNumber)).toHaveLength(3);
    for (const refused of results.filter((result) => result.errors)) {
      expect(refused.errors![0]).toMatchObject({
        message: expect.stringMatching(/\bUS\b.*daily cap/),
        extensions: { code: 'SMS_NOT_ALLOWED', country: 'US', reason: 'COUNTRY_DAILY_CAP' },
      });
    }
  });

  it('gives each country not listed its own cap (*), and each listed country its own', async () => {
    expect(codes([await startSetup(0, phone.FR()), await startSetup(1, phone.FR())])).toEqual([
      'OK',
      'SMS_NOT_ALLOWED',
    ]);
    expect(codes([await startSetup(0, phone.CA()), await startSetup(1, phone.CA())])).toEqual([
      'OK',
      'SMS_NOT_ALLOWED',
    ]);
    const de = [];
    for (let turn = 0; turn < 3; turn += 1) de.push(await startSetup(turn, phone.DE()));
    expect(codes(de)).toEqual(['OK', 'OK', 'SMS_NOT_ALLOWED']);
  });

  it('refuses a capped country before any send: setups (before the step-up is spent), step-up and login codes', async () => {
    // One of the 3 US sends of the day goes to this user's setup.
    const user = await enrollSms(a, sns, uniqueId('caps'), phone.US());
    const totp = await enrollTotp(b, uniqueId('caps'));
    expect(codes([await startSetup(0, phone.US()), await startSetup(1, phone.US())])).toEqual(['OK', 'OK']);
    const requests = sns.requests;
    expect(errorCode(await b.gql(SEND, {}, user.token))).toBe('SMS_NOT_ALLOWED');
    const challenge = await a.gql(OPEN, { u: user.userId }, loginService);
    expect(errorCode(await b.gql(SEND_LOGIN, { id: challenge.data.startLoginChallenge.id }))).toBe('SMS_NOT_ALLOWED');
    const setup = await a.gql(START, { p: phone.US(), c: totp.recoveryCodes[0] }, totp.token);
    expect(errorCode(setup)).toBe('SMS_NOT_ALLOWED');
    expect(sns.requests).toBe(requests);
    expect((await b.gql(VIEW, { c: totp.recoveryCodes[0] }, totp.token)).errors).toBeUndefined();
  });

  it('gives back what a failed publish took: a failed publish counts nowhere', async () => {
    sns.mode = 'error';
    // One after the other: a send in flight holds its place in the cap until its publish ends.
    const failed = [];
    for (let turn = 0; turn < 3; turn += 1) failed.push(await startSetup(turn, phone.DE()));
    expect(codes(failed)).toEqual(['SMS_DELIVERY_FAILED', 'SMS_DELIVERY_FAILED', 'SMS_DELIVERY_FAILED']);
    sns.mode = 'ok';
    const sent = [];
    for (let turn = 0; turn < 3; turn += 1) sent.push(await startSetup(turn, phone.DE()));
    expect(codes(sent)).toEqual(['OK', 'OK', 'SMS_NOT_ALLOWED']);
  });

  it('counts per UTC day: the cap opens again at midnight UTC, not before', async () => {
    const now = clock.now();
    clock.set(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 23, 59, 58)));
    expect(codes([await startSetup(0, phone.FR()), await startSetup(1, phone.FR())])).toEqual([
      'OK',
      'SMS_NOT_ALLOWED',
    ]);
    clock.advance(1_000);
    expect(codes([await startSetup(0, phone.FR())])).toEqual(['SMS_NOT_ALLOWED']);
    clock.advance(2_000);
    expect(codes([await startSetup(1, phone.FR())])).toEqual(['OK']);
  });

  it('refuses a country outside SMS_ALLOWED_COUNTRIES with SMS_NOT_ALLOWED, naming it, before any send', async () => {
    const requests = sns.requests;
    const refused = await startSetup(0, phone.JP());
    expect(refused.errors![0]).toMatchObject({
      message: expect.stringMatching(/\bJP\b.*not allowed/),
      extensions: { code: 'SMS_NOT_ALLOWED', country: 'JP', reason: 'COUNTRY_NOT_ALLOWED' },
    });
    expect(sns.requests).toBe(requests);
  });

  it('counts sends by country and outcome in /metrics, with labels from closed sets only', async () => {
    // Some of everything, with hostile input where a caller chooses it.
    await startSetup(0, phone.JP());
    const token = await setupToken(a);
    const number = phone.CA();
    // The same setup again within 30 s: RATE_LIMITED.
    expect(errorCode(await a.gql(START, { p: number }, token))).toBeUndefined();
    expect(errorCode(await b.gql(START, { p: number }, token))).toBe('RATE_LIMITED');
    for (const locale of ['de', 'xx-evil', 'en-u-nu-arab', '<script>'])
      await a.gql(START, { p: phone.FR(), l: locale }, token);
    await a.gql(START, { p: '+1 (415) 555-CALL' }, token);

    const series: { country: string; outcome: string; value: number }[] = [];
    for (const t of [a, b]) {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      for (const [, labels, value] of text.matchAll(/^sms_sends_total\{([^}]*)\} (\d+)$/gm)) {
        const parsed = Object.fromEntries([...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]));
        expect(Object.keys(parsed).sort()).toEqual(['country', 'outcome']);
        series.push({ country: parsed.country, outcome: parsed.outcome, value: Number(value) });
      }
    }
    const countries = new Set<string>(getCountries());
    expect(series.filter((s) => !countries.has(s.country) || !OUTCOMES.includes(s.outcome))).toEqual([]);
    const total = (outcome: string, country?: string) =>
      series
        .filter((s) => s.outcome === outcome && (country === undefined || s.country === country))
        .reduce((sum, s) => sum + s.value, 0);
    // Every publish SNS took is one `sent`; every refusal has its reason.
    expect(total('sent')).toBe(sns.published.length);
    expect(total('failed', 'DE')).toBe(3);
    expect(total('refused_country', 'JP')).toBe(2);
    expect(total('refused_cap', 'US')).toBeGreaterThanOrEqual(9 + 3);
    expect(total('rate_limited', 'CA')).toBe(1);
  });
});
