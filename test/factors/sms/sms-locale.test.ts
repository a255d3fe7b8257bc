import { randomInt } from 'node:crypto';
import { FakeSns } from '../../support/fake-sns';
import { startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { enrollTotp, currentTotp } from '../../support/two-factor';

const START =
  'mutation($p: String!, $c: String, $l: String) { startSmsSetup(phoneNumber: $p, code: $c, locale: $l) { phoneNumberMasked } }';
const CONFIRM = 'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes status { enabled } } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code usedAt } } }';
const OPEN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }';
const SEND_LOGIN = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';

let counter = randomInt(0, 9000);
const newPhone = () => `+1415555${String(1000 + (counter++ % 9000)).padStart(4, '0')}`;

/** Words only the text of that language has (test/factors/sms/sms-texts.test.ts checks the texts themselves). */
const IN = {
  en: 'verification code',
  de: 'Ihr Code lautet',
  fr: 'votre code est',
  ja: '認証コード',
} as const;

describe("SMS in the user's language (startSmsSetup's locale, kept on the number)", () => {
  const sns = new FakeSns();
  let t: TestApp;
  let loginService: string;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, TOTP_ISSUER: 'Acme' } });
    loginService = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });
  beforeEach(() => {
    sns.mode = 'ok';
  });

  const lastTextTo = (phone: string) => sns.published.filter((sms) => sms.phoneNumber === phone).at(-1)!.message;

  async function enroll(locale?: string) {
    const userId = uniqueId('sms-locale');
    const phone = newPhone();
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const start = await t.gql(START, { p: phone, l: locale }, token);
    if (start.errors) throw new Error(JSON.stringify(start.errors));
    const setupText = lastTextTo(phone);
    const confirm = await t.gql(CONFIRM, { c: sns.lastCodeTo(phone) }, token);
    if (confirm.errors) throw new Error(JSON.stringify(confirm.errors));
    return { userId, phone, token, setupText, recoveryCodes: confirm.data.confirmSmsSetup.recoveryCodes as string[] };
  }

  async function loginText(userId: string, phone: string): Promise<string> {
    const challenge = await t.gql(OPEN, { u: userId }, loginService);
    const sent = await t.gql(SEND_LOGIN, { id: challenge.data.startLoginChallenge.id });
    if (sent.errors) throw new Error(JSON.stringify(sent.errors));
    return lastTextTo(phone);
  }

  it('sends the setup code in the language asked for, keeps it on the pending setup and then on the number', async () => {
    const userId = uniqueId('sms-locale');
    const phone = newPhone();
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    expect((await t.gql(START, { p: phone, l: 'de-CH' }, token)).errors).toBeUndefined();
    expect(lastTextTo(phone)).toContain(IN.de);
    expect(await t.sql('SELECT sms_locale FROM pending_setups WHERE user_id = ?', [userId])).toEqual([
      { sms_locale: 'de-CH' },
    ]);
    expect((await t.gql(CONFIRM, { c: sns.lastCodeTo(phone) }, token)).errors).toBeUndefined();
    expect(await t.sql('SELECT sms_locale FROM sms_factors WHERE user_id = ?', [userId])).toEqual([
      { sms_locale: 'de-CH' },
    ]);
  });

  it('sends login and step-up codes in the language kept on the number', async () => {
    const user = await enroll('fr');
    expect(user.setupText).toContain(IN.fr);
    expect(await loginText(user.userId, user.phone)).toContain(IN.fr);
    t.clock.advance(31_000);
    expect((await t.gql(SEND, {}, user.token)).errors).toBeUndefined();
    expect(lastTextTo(user.phone)).toContain(IN.fr);
  });

  it('is English when no language is given', async () => {
    const user = await enroll();
    expect(user.setupText).toContain(IN.en);
    expect(await t.sql('SELECT sms_locale FROM sms_factors WHERE user_id = ?', [user.userId])).toEqual([
      { sms_locale: 'en' },
    ]);
    expect(await loginText(user.userId, user.phone)).toContain(IN.en);
  });

  it('keeps a well-formed tag without a text (nl), and sends English until there is one', async () => {
    const user = await enroll('nl');
    expect(user.setupText).toContain(IN.en);
    expect(await t.sql('SELECT sms_locale FROM sms_factors WHERE user_id = ?', [user.userId])).toEqual([
      { sms_locale: 'nl' },
    ]);
    expect(await loginText(user.userId, user.phone)).toContain(IN.en);
  });

  it.each([
    ['an underscore', 'de_DE'],
    ['empty', ''],
    ['markup', '<b>de</b>'],
    ['10 KB', 'de'.padEnd(10_000, '-x')],
  ])('refuses a malformed tag (%s) with BAD_USER_INPUT, before any send or step-up', async (_name, locale) => {
    const user = await enrollTotp(t, uniqueId('sms-locale'));
    const before = sns.requests;
    const refused = await t.gql(START, { p: newPhone(), c: user.recoveryCodes[0], l: locale }, user.token);
    expect(refused.errors![0]).toMatchObject({
      message: expect.stringContaining('locale'),
      extensions: { code: 'BAD_USER_INPUT', field: 'locale' },
    });
    expect(sns.requests).toBe(before);
    // The step-up code was not spent on it.
    expect((await t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token)).errors).toBeUndefined();
  });

  it('a new number brings its own language, from when it is confirmed', async () => {
    const user = await enrollTotp(t, uniqueId('sms-locale'));
    const first = newPhone();
    expect((await t.gql(START, { p: first, c: currentTotp(t, user.secret), l: 'de' }, user.token)).errors).toBe(
      undefined,
    );
    expect((await t.gql(CONFIRM, { c: sns.lastCodeTo(first) }, user.token)).errors).toBeUndefined();
    t.clock.advance(30_000);
    const second = newPhone();
    expect((await t.gql(START, { p: second, c: currentTotp(t, user.secret), l: 'ja' }, user.token)).errors).toBe(
      undefined,
    );
    expect(lastTextTo(second)).toContain(IN.ja);
    // Pending: the confirmed number still gets its own language.
    expect(await loginText(user.userId, first)).toContain(IN.de);
    expect((await t.gql(CONFIRM, { c: sns.lastCodeTo(second) }, user.token)).errors).toBeUndefined();
    expect(await loginText(user.userId, second)).toContain(IN.ja);
  });

  it('reads numbers confirmed before languages existed (no sms_locale written) as English', async () => {
    const user = await enroll('de');
    await t.sql('UPDATE sms_factors SET sms_locale = DEFAULT WHERE user_id = ?', [user.userId]);
    expect(await loginText(user.userId, user.phone)).toContain(IN.en);
  });
});

describe('the WebOTP line (WEBOTP_DOMAIN), end to end', () => {
  const sns = new FakeSns();
  let t: TestApp;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({
      env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, TOTP_ISSUER: 'Acme', WEBOTP_DOMAIN: 'Login.Example.com' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  it("ends the SMS, in the user's language, with `@<domain> #<code>`; that code confirms", async () => {
    const number = newPhone();
    const token = await t.token(uniqueId('webotp'), [], { authTime: t.clock.now() });
    expect((await t.gql(START, { p: number, l: 'es' }, token)).errors).toBeUndefined();
    const sms = sns.published.at(-1)!;
    const [text, webOtp] = sms.message.split('\n');
    expect(text).toContain('Acme: tu clave es');
    expect(webOtp).toBe(`@login.example.com #${sms.code}`);
    expect((await t.gql(CONFIRM, { c: sms.code }, token)).data.confirmSmsSetup.status.enabled).toBe(true);
  });
});
