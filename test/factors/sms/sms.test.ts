import { smsPhoneBinding } from '../../../src/factors/sms/sms-factor.entity';
import { SecretBox } from '../../../src/infra/crypto/cipher';
import { FakeSns } from '../../support/fake-sns';
import { ENCRYPTION_KEY, errorCode, startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { currentTotp, enrollSms as enrollWithSns, enrollTotp, nextStep } from '../../support/two-factor';

const START =
  'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked codeExpiresAt resendAvailableAt } }';
const CONFIRM =
  'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes status { enabled methods sms { phoneNumberMasked } } } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked codeExpiresAt resendAvailableAt } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code usedAt } } }';
const REMOVE =
  'mutation($c: String!) { removeSms(code: $c) { enabled methods sms { phoneNumberMasked } recoveryCodesRemaining } }';

let phoneCounter = 0;
/** A fresh valid US mobile-or-fixed number per call, so tests do not share number limits. */
const newPhone = () => `+1415555${String(1000 + ((process.pid * 7 + phoneCounter++) % 9000)).padStart(4, '0')}`;

describe('SMS as a second factor (real SNS client against a local SNS endpoint)', () => {
  const sns = new FakeSns();
  let t: TestApp;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, SMS_SENDER_ID: 'Acme' } });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });
  beforeEach(() => {
    sns.mode = 'ok';
  });

  const enrollSms = (userId = uniqueId('sms-user'), phone = newPhone()) => enrollWithSns(t, sns, userId, phone);

  it('sets up a number: publishes a transactional SMS with one 6-digit code, confirms, turns two-factor on with recovery codes', async () => {
    const userId = uniqueId('sms-user');
    const phone = newPhone();
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const start = await t.gql(START, { p: phone }, token);
    expect(start.data.startSmsSetup.phoneNumberMasked).toBe(`+1 ••• ••• ${phone.slice(-4)}`);
    expect(new Date(start.data.startSmsSetup.codeExpiresAt).getTime() - t.clock.now().getTime()).toBe(10 * 60 * 1000);
    const sent = sns.published.at(-1)!;
    expect(sent.phoneNumber).toBe(phone);
    expect(sent.attributes).toEqual({ 'AWS.SNS.SMS.SMSType': 'Transactional', 'AWS.SNS.SMS.SenderID': 'Acme' });
    expect(sent.code).toMatch(/^\d{6}$/);
    const status = await t.gql('{ me { twoFactor { enabled } } }', {}, token);
    expect(status.data.me.twoFactor.enabled).toBe(false);
    const confirm = await t.gql(CONFIRM, { c: sent.code }, token);
    expect(confirm.data.confirmSmsSetup.status).toEqual({
      enabled: true,
      methods: ['SMS'],
      sms: { phoneNumberMasked: `+1 ••• ••• ${phone.slice(-4)}` },
    });
    expect(confirm.data.confirmSmsSetup.recoveryCodes).toHaveLength(10);
    const [row] = await t.sql('SELECT phone_ciphertext, phone_hash FROM sms_factors WHERE user_id = ?', [userId]);
    expect(JSON.stringify(row)).not.toContain(phone.slice(1));
  });

  it('uses sendSmsCode codes for step-up, once each', async () => {
    const user = await enrollSms();
    const sent = await t.gql(SEND, {}, user.token);
    expect(sent.errors).toBeUndefined();
    const code = sns.lastCodeTo(user.phone);
    expect((await t.gql(VIEW, { c: code }, user.token)).data.viewRecoveryCodes.codes).toHaveLength(10);
    expect(errorCode(await t.gql(VIEW, { c: code }, user.token))).toBe('INVALID_CODE');
  });

  it('never lets a setup code serve as a step-up code, or the other way round', async () => {
    const user = await enrollSms();
    const other = newPhone();
    await t.gql(SEND, {}, user.token);
    const stepUpCode = sns.lastCodeTo(user.phone);
    // Changing the number needs a step-up; the setup code then goes to the new number.
    expect((await t.gql(START, { p: other, c: stepUpCode }, user.token)).errors).toBeUndefined();
    const setupCode = sns.lastCodeTo(other);
    expect(errorCode(await t.gql(VIEW, { c: setupCode }, user.token))).toBe('INVALID_CODE');
    // The old number stays until the new one is confirmed.
    expect(
      (await t.gql('{ me { twoFactor { sms { phoneNumberMasked } } } }', {}, user.token)).data.me.twoFactor.sms
        .phoneNumberMasked,
    ).toContain(user.phone.slice(-4));
    const confirm = await t.gql(CONFIRM, { c: setupCode }, user.token);
    expect(confirm.data.confirmSmsSetup.status.sms.phoneNumberMasked).toContain(other.slice(-4));
    expect(confirm.data.confirmSmsSetup.recoveryCodes).toBeNull();
  });

  it('refuses a rate-limited number change before spending the step-up code', async () => {
    const user = await enrollSms();
    const other = newPhone();
    expect((await t.gql(START, { p: other, c: user.recoveryCodes[0] }, user.token)).errors).toBeUndefined();
    // Within 30 s of the last send to that number: refused, and the recovery code is still unused.
    expect(errorCode(await t.gql(START, { p: other, c: user.recoveryCodes[1] }, user.token))).toBe('RATE_LIMITED');
    expect((await t.gql(VIEW, { c: user.recoveryCodes[1] }, user.token)).errors).toBeUndefined();
  });

  it('requires a step-up code to change the number while two-factor is on', async () => {
    const user = await enrollSms();
    expect(errorCode(await t.gql(START, { p: newPhone() }, user.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await t.gql(START, { p: newPhone(), c: '000000' }, user.token))).toBe('INVALID_CODE');
  });

  it.each([
    ['not E.164', '4155552671'],
    ['letters', '+1415555CALL'],
    ['too short', '+1234'],
    ['an impossible number', '+19995550100'],
    ['a VOIP number', '+445611234567'],
    ['a US premium-rate number', '+19005550123'],
    ['a UK premium-rate number', '+449098790000'],
    ['a toll-free number', '+18005550199'],
    ['a pager number', '+447640123456'],
    ['a landline', '+442071838750'],
    ['empty', ''],
    ['10 KB', '+1'.padEnd(10_000, '5')],
  ])('refuses %s with BAD_USER_INPUT, sending nothing', async (_name, phone) => {
    const before = sns.requests;
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    expect(errorCode(await t.gql(START, { p: phone }, token))).toBe('BAD_USER_INPUT');
    expect(sns.requests).toBe(before);
  });

  it('names the kind of number it refuses', async () => {
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    const refused = await t.gql(START, { p: '+19005550123' }, token);
    expect(refused.errors![0]).toMatchObject({
      message: expect.stringContaining('premium-rate number'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('sends no step-up code to a confirmed number that is not mobile (confirmed before the rule)', async () => {
    const userId = uniqueId('u');
    const box = new SecretBox(Buffer.from(ENCRYPTION_KEY, 'base64'));
    const now = new Date();
    const landline = '+442071838750';
    await t.sql(
      'INSERT INTO users (id, two_factor_enabled, enabled_at, failed_attempts_in_row, created_at) VALUES (?, 1, ?, 0, ?)',
      [userId, now, now],
    );
    await t.sql(
      'INSERT INTO sms_factors (user_id, phone_ciphertext, phone_hash, phone_masked, created_at) VALUES (?, ?, ?, ?, ?)',
      [userId, box.seal(landline, smsPhoneBinding(userId)), box.hash(landline), '+44 ••• ••• 8750', now],
    );
    const before = sns.requests;
    expect(errorCode(await t.gql(SEND, {}, await t.token(userId)))).toBe('BAD_USER_INPUT');
    expect(sns.requests).toBe(before);
  });

  it('refuses sendSmsCode without a confirmed number with NOT_ENROLLED', async () => {
    expect(errorCode(await t.gql(SEND, {}, await t.token(uniqueId('u'))))).toBe('NOT_ENROLLED');
  });

  it('confirming with no pending setup is NOT_FOUND', async () => {
    expect(
      errorCode(await t.gql(CONFIRM, { c: '123456' }, await t.token(uniqueId('u'), [], { authTime: t.clock.now() }))),
    ).toBe('NOT_FOUND');
  });

  it('allows one send per number and purpose every 30 s, and says when', async () => {
    const phone = newPhone();
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    const first = await t.gql(START, { p: phone }, token);
    expect(new Date(first.data.startSmsSetup.resendAvailableAt).getTime() - t.clock.now().getTime()).toBe(30_000);
    const second = await t.gql(START, { p: phone }, token);
    expect(errorCode(second)).toBe('RATE_LIMITED');
    expect(second.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
    expect(second.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it("allows 5 setup sends an hour per user; a victim's own sends are counted apart", async () => {
    const victim = await enrollSms();
    const attacker = await t.token(uniqueId('attacker'), [], { authTime: t.clock.now() });
    // The attacker "sets up" the victim's number, then other numbers, until its hourly limit.
    expect((await t.gql(START, { p: victim.phone }, attacker)).errors).toBeUndefined();
    for (let i = 0; i < 4; i += 1) expect((await t.gql(START, { p: newPhone() }, attacker)).errors).toBeUndefined();
    expect(errorCode(await t.gql(START, { p: newPhone() }, attacker))).toBe('RATE_LIMITED');
    // The victim still gets its codes.
    expect((await t.gql(SEND, {}, victim.token)).errors).toBeUndefined();
  });

  it('counts 5 unconfirmed sends an hour per number, whoever asks', async () => {
    const phone = newPhone();
    for (let i = 0; i < 5; i += 1) {
      const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
      // Different users: the 30 s rule is per number and purpose (each user's setup is its own purpose).
      expect((await t.gql(START, { p: phone }, token)).errors).toBeUndefined();
    }
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    expect(errorCode(await t.gql(START, { p: phone }, token))).toBe('RATE_LIMITED');
  });

  it.each(['error', 'throttle'] as const)(
    'a publish that fails (%s) is SMS_DELIVERY_FAILED, costs no quota and leaves no live code',
    async (mode) => {
      const phone = newPhone();
      const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
      sns.mode = mode;
      expect(errorCode(await t.gql(START, { p: phone }, token))).toBe('SMS_DELIVERY_FAILED');
      expect(errorCode(await t.gql(CONFIRM, { c: '123456' }, token))).toBe('INVALID_CODE');
      sns.mode = 'ok';
      // Not held back by the 30 s rule: the failed send counted nowhere.
      expect((await t.gql(START, { p: phone }, token)).errors).toBeUndefined();
      expect((await t.gql(CONFIRM, { c: sns.lastCodeTo(phone) }, token)).data.confirmSmsSetup.status.enabled).toBe(
        true,
      );
    },
  );

  it("the warning of a failed publish carries the request's id, as every line written for a request", async () => {
    // Issue 21, finding 11: this line carried no request id.
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    const requestId = uniqueId('req-sms');
    sns.mode = 'error';
    const refused = await t.gql(START, { p: newPhone() }, token, { 'x-request-id': requestId });
    expect(errorCode(refused)).toBe('SMS_DELIVERY_FAILED');
    const failed = t.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'SMS publish failed');
    expect(failed.at(-1)).toMatchObject({ reqId: requestId });
    // Once: the request's own line (Fastify's) is not given a second one.
    expect(t.logs.filter((line) => line.includes(requestId)).every((line) => line.split('"reqId"').length === 2)).toBe(
      true,
    );
  });

  it('an SNS endpoint that hangs gives SMS_DELIVERY_FAILED in bounded time', async () => {
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    sns.mode = 'hang';
    const started = Date.now();
    expect(errorCode(await t.gql(START, { p: newPhone() }, token))).toBe('SMS_DELIVERY_FAILED');
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);

  it('a code expires after 10 minutes (injected clock)', async () => {
    const phone = newPhone();
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    await t.gql(START, { p: phone }, token);
    t.clock.advance(10 * 60 * 1000 + 1000);
    // The pending setup expired with it.
    expect(errorCode(await t.gql(CONFIRM, { c: sns.lastCodeTo(phone) }, token))).toBe('NOT_FOUND');
  });

  it('a step-up code expires after 10 minutes', async () => {
    const user = await enrollSms();
    await t.gql(SEND, {}, user.token);
    t.clock.advance(10 * 60 * 1000 + 1000);
    expect(errorCode(await t.gql(VIEW, { c: sns.lastCodeTo(user.phone) }, user.token))).toBe('INVALID_CODE');
  });

  it('allows at most 5 checks per code', async () => {
    const phone = newPhone();
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    await t.gql(START, { p: phone }, token);
    const right = sns.lastCodeTo(phone);
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i += 1) expect(errorCode(await t.gql(CONFIRM, { c: wrong }, token))).toBe('INVALID_CODE');
    expect(errorCode(await t.gql(CONFIRM, { c: right }, token))).toBe('INVALID_CODE');
  });

  it('gives exactly one success to 20 parallel uses of one code', async () => {
    const user = await enrollSms();
    await t.gql(SEND, {}, user.token);
    const code = sns.lastCodeTo(user.phone);
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(VIEW, { c: code }, user.token)));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
  });

  it('a resend never resets the failure count (NIST SP 800-63B-4 3.1.3.2): the 11th attempt is refused, right code or not', async () => {
    const user = await enrollSms();
    const wrong = (code: string) => (code === '000000' ? '111111' : '000000');
    for (let i = 0; i < 9; i += 1)
      expect(errorCode(await t.gql(VIEW, { c: '000000' }, user.token))).toBe('INVALID_CODE');
    const [before] = await t.sql('SELECT failed_attempts_in_row FROM users WHERE id = ?', [user.userId]);
    expect(before).toEqual({ failed_attempts_in_row: 9 });
    // A new code (a new authentication secret) is sent: the failures stay counted.
    expect((await t.gql(SEND, {}, user.token)).errors).toBeUndefined();
    const fresh = sns.lastCodeTo(user.phone);
    expect(await t.sql('SELECT failed_attempts_in_row FROM users WHERE id = ?', [user.userId])).toEqual([before]);
    expect(errorCode(await t.gql(VIEW, { c: wrong(fresh) }, user.token))).toBe('INVALID_CODE');
    expect(errorCode(await t.gql(VIEW, { c: fresh }, user.token))).toBe('RATE_LIMITED');
  });

  it('removes the number with a step-up; the last factor gone turns two-factor off', async () => {
    const user = await enrollSms();
    const result = await t.gql(REMOVE, { c: user.recoveryCodes[0] }, user.token);
    expect(result.data.removeSms).toEqual({ enabled: false, methods: [], sms: null, recoveryCodesRemaining: 0 });
    const events = await t.sql('SELECT action FROM audit_events WHERE user_id = ? ORDER BY id', [user.userId]);
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['SMS_SENT', 'SMS_ENABLED', 'TWO_FACTOR_ENABLED', 'SMS_REMOVED', 'TWO_FACTOR_DISABLED']),
    );
  });

  it('a step-up code sent before the number was removed is dead', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    const phone = newPhone();
    expect((await t.gql(START, { p: phone, c: currentTotp(t, user.secret) }, user.token)).errors).toBeUndefined();
    expect((await t.gql(CONFIRM, { c: sns.lastCodeTo(phone) }, user.token)).errors).toBeUndefined();
    nextStep(t);
    await t.gql(SEND, {}, user.token);
    const stale = sns.lastCodeTo(phone);
    expect((await t.gql(REMOVE, { c: currentTotp(t, user.secret) }, user.token)).data.removeSms.methods).toEqual([
      'TOTP',
    ]);
    expect(errorCode(await t.gql(VIEW, { c: stale }, user.token))).toBe('INVALID_CODE');
  });

  it('a setup code sent to one number never confirms another pending number', async () => {
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    const mine = newPhone();
    const victims = newPhone();
    expect((await t.gql(START, { p: mine }, token)).errors).toBeUndefined();
    const myCode = sns.lastCodeTo(mine);
    // The send to the second number fails, but that number is now the pending one.
    sns.mode = 'error';
    expect(errorCode(await t.gql(START, { p: victims }, token))).toBe('SMS_DELIVERY_FAILED');
    sns.mode = 'ok';
    expect(errorCode(await t.gql(CONFIRM, { c: myCode }, token))).toBe('INVALID_CODE');
    expect((await t.gql('{ me { twoFactor { enabled } } }', {}, token)).data.me.twoFactor.enabled).toBe(false);
  });

  it('a step-up code sent to a number that was since replaced is dead', async () => {
    const user = await enrollSms();
    await t.gql(SEND, {}, user.token);
    const toOldNumber = sns.lastCodeTo(user.phone);
    const replacement = newPhone();
    expect((await t.gql(START, { p: replacement, c: user.recoveryCodes[0] }, user.token)).errors).toBeUndefined();
    expect((await t.gql(CONFIRM, { c: sns.lastCodeTo(replacement) }, user.token)).errors).toBeUndefined();
    expect(errorCode(await t.gql(VIEW, { c: toOldNumber }, user.token))).toBe('INVALID_CODE');
  });

  it('never logs a code or a whole number with the SNS provider', async () => {
    const user = await enrollSms();
    await t.gql(SEND, {}, user.token);
    const logs = t.logs.join('\n');
    for (const sms of sns.published) {
      expect(logs).not.toContain(sms.code);
      expect(logs).not.toContain(sms.phoneNumber.slice(1));
    }
    expect(logs).toContain('SMS published');
  });
});

describe('SMS limits for the whole service and countries', () => {
  const sns = new FakeSns();
  let t: TestApp;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({
      env: {
        SMS_PROVIDER: 'sns',
        SNS_ENDPOINT: sns.url,
        SMS_DAILY_BUDGET: '3',
        SMS_SETUP_DAILY_BUDGET: '2',
        SMS_ALLOWED_COUNTRIES: 'US,CA',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  it('refuses destinations outside SMS_ALLOWED_COUNTRIES before any send, with SMS_NOT_ALLOWED naming the country', async () => {
    // Issue 26: SMS_NOT_ALLOWED replaces the BAD_USER_INPUT a refused country got before.
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    const refused = await t.gql(START, { p: '+491701234567' }, token);
    expect(refused.errors![0]).toMatchObject({
      message: expect.stringContaining('DE'),
      extensions: { code: 'SMS_NOT_ALLOWED', country: 'DE', reason: 'COUNTRY_NOT_ALLOWED' },
    });
    expect(sns.requests).toBe(0);
  });

  it('refuses to send to a confirmed number whose country is no longer allowed', async () => {
    // Confirmed before SMS_ALLOWED_COUNTRIES was narrowed: written as the service stores it.
    const userId = uniqueId('u');
    const box = new SecretBox(Buffer.from(ENCRYPTION_KEY, 'base64'));
    const now = new Date();
    await t.sql(
      'INSERT INTO users (id, two_factor_enabled, enabled_at, failed_attempts_in_row, created_at) VALUES (?, 1, ?, 0, ?)',
      [userId, now, now],
    );
    await t.sql(
      'INSERT INTO sms_factors (user_id, phone_ciphertext, phone_hash, phone_masked, created_at) VALUES (?, ?, ?, ?, ?)',
      [userId, box.seal('+491701234567', smsPhoneBinding(userId)), box.hash('+491701234567'), '+49 ••• ••• 4567', now],
    );
    const before = sns.requests;
    expect(errorCode(await t.gql(SEND, {}, await t.token(userId)))).toBe('SMS_NOT_ALLOWED');
    expect(sns.requests).toBe(before);
  });

  it('stops setup sends past SMS_SETUP_DAILY_BUDGET, and every send past SMS_DAILY_BUDGET', async () => {
    // Setups: 2 of 2, of the 3 in all.
    const user = await enrollWithSns(t, sns, uniqueId('u'), newPhone());
    const other = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    expect((await t.gql(START, { p: newPhone() }, other)).errors).toBeUndefined();
    const third = await t.gql(START, { p: newPhone() }, await t.token(uniqueId('u'), [], { authTime: t.clock.now() }));
    expect(errorCode(third)).toBe('RATE_LIMITED');
    expect(third.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
    // The refused setup took nothing from the total: a step-up code still goes, the third of 3.
    expect((await t.gql(SEND, {}, user.token)).errors).toBeUndefined();
    // Now the total is used up: a login code is refused too.
    const challenge = await t.gql(
      'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }',
      { u: user.userId },
      await t.token('login-service', ['twofactor:login']),
    );
    const login = await t.gql('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', {
      id: challenge.data.startLoginChallenge.id,
    });
    expect(errorCode(login)).toBe('RATE_LIMITED');
  });
});

describe('setups cannot starve login and step-up codes (SMS_SETUP_DAILY_BUDGET)', () => {
  const sns = new FakeSns();
  let t: TestApp;
  beforeAll(async () => {
    await sns.start();
    // 5 a day in all: setups get a fifth, 1.
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, SMS_DAILY_BUDGET: '5' } });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  const budgets = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const value = (name: string, budget: string) =>
      Number(new RegExp(`^${name}\\{budget="${budget}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    return {
      total: { used: value('sms_daily_budget_used', 'total'), limit: value('sms_daily_budget_limit', 'total') },
      setup: { used: value('sms_daily_budget_used', 'setup'), limit: value('sms_daily_budget_limit', 'setup') },
    };
  };

  it('throwaway setups use up only the setup budget; the user still gets login and step-up codes; /metrics shows both', async () => {
    expect(await budgets()).toEqual({ total: { used: 0, limit: 5 }, setup: { used: 0, limit: 1 } });
    const victim = await enrollWithSns(t, sns, uniqueId('victim'), newPhone());
    // Attackers "set up" throwaway numbers, each from a fresh account.
    for (let i = 0; i < 4; i += 1) {
      const attacker = await t.token(uniqueId('attacker'), [], { authTime: t.clock.now() });
      expect([i, errorCode(await t.gql(START, { p: newPhone() }, attacker))]).toEqual([i, 'RATE_LIMITED']);
    }
    expect(await budgets()).toEqual({ total: { used: 1, limit: 5 }, setup: { used: 1, limit: 1 } });
    expect((await t.gql(SEND, {}, victim.token)).errors).toBeUndefined();
    const loginService = await t.token('login-service', ['twofactor:login']);
    for (let i = 0; i < 3; i += 1) {
      const challenge = await t.gql(
        'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }',
        { u: victim.userId },
        loginService,
      );
      const sent = await t.gql('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', {
        id: challenge.data.startLoginChallenge.id,
      });
      expect([i, sent.errors]).toEqual([i, undefined]);
    }
    expect(await budgets()).toEqual({ total: { used: 5, limit: 5 }, setup: { used: 1, limit: 1 } });
  });
});

describe("the log SMS provider (the embedded default's)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('writes the message, with the code, to the log and nothing else of the number than its mask', async () => {
    const phone = '+14155550123';
    const token = await t.token(uniqueId('u'), [], { authTime: t.clock.now() });
    expect((await t.gql(START, { p: phone }, token)).errors).toBeUndefined();
    const line = t.logs.find((entry) => entry.includes('log provider'))!;
    expect(line).toMatch(/verification code: \d{6}/);
    expect(line).toContain('+1 ••• ••• 0123');
    expect(t.logs.join('\n')).not.toContain('4155550123');
  });
});
