import { createConnection } from 'mysql2/promise';
import { syncOrganization } from '../support/directory';
import { eventually } from '../support/eventually';
import { FakeSns } from '../support/fake-sns';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollSms, nextStep } from '../support/two-factor';

const ORIGIN = 'http://localhost:5173';
const START_TOTP = 'mutation($c: String, $w: JSON) { startTotpSetup(code: $c, webAuthn: $w) { secret } }';
const CONFIRM_TOTP = 'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }';
const START_REGISTRATION =
  'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { options } }';
const CONFIRM_REGISTRATION =
  'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r, name: "Key") { status { webAuthnCredentials { id } } } }';
const START_STEP_UP = 'mutation { startWebAuthnStepUp { options } }';
const SEND_SMS = 'mutation { sendSmsCode { phoneNumberMasked } }';
const REQUIRE = 'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }';
const REQUIRE_PR =
  'mutation($o: ID!, $d: Int) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }';
const STOP = 'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }';
const RECOVERY_REMAINING = '{ me { twoFactor { recoveryCodesRemaining } } }';

/** Every step-up: each adds or removes a factor, shows or regenerates recovery codes, or turns two-factor off. */
const STEP_UPS: Record<string, string> = {
  startTotpSetup: START_TOTP,
  startSmsSetup:
    'mutation($c: String, $w: JSON) { startSmsSetup(phoneNumber: "+14155550142", code: $c, webAuthn: $w) { phoneNumberMasked } }',
  startWebAuthnRegistration: START_REGISTRATION,
  viewRecoveryCodes: 'mutation($c: String, $w: JSON) { viewRecoveryCodes(code: $c, webAuthn: $w) { generatedAt } }',
  regenerateRecoveryCodes:
    'mutation($c: String, $w: JSON) { regenerateRecoveryCodes(code: $c, webAuthn: $w) { generatedAt } }',
  removeTotp: 'mutation($c: String, $w: JSON) { removeTotp(code: $c, webAuthn: $w) { enabled } }',
  removeSms: 'mutation($c: String, $w: JSON) { removeSms(code: $c, webAuthn: $w) { enabled } }',
  removeWebAuthnCredential:
    'mutation($id: ID!, $c: String, $w: JSON) { removeWebAuthnCredential(id: $id, code: $c, webAuthn: $w) { enabled } }',
  disableTwoFactor: 'mutation($c: String, $w: JSON) { disableTwoFactor(code: $c, webAuthn: $w) { enabled } }',
};

/**
 * Contract README, "Enforcement": while an organization of the user requires a
 * phishing-resistant factor and the user has an accepted key, a phishable answer
 * (TOTP, SMS, recovery code) gives no step-up: PHISHING_RESISTANT_ANSWER_REQUIRED,
 * before it is counted. A relaying proxy cannot plant its own factor, read the
 * recovery codes or turn two-factor off.
 */
describe('step-ups under a phishing-resistant requirement', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let phone = 0;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({
      env: {
        WEBAUTHN_RP_ID: 'localhost',
        WEBAUTHN_ORIGINS: ORIGIN,
        SMS_PROVIDER: 'sns',
        SNS_ENDPOINT: sns.url,
        IP_ATTEMPTS_PER_MINUTE: '100000',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  /** A user with SMS, TOTP and (unless told) a key: every answer a step-up takes. */
  async function userWithEveryFactor(prefix: string, { key = true } = {}) {
    const userId = uniqueId(prefix);
    phone += 1;
    const number = `+1415556${String(1000 + phone).slice(-4)}`;
    const sms = await enrollSms(t, sns, userId, number);
    const [first, second, ...recoveryCodes] = sms.recoveryCodes;
    const started = await t.gql(START_TOTP, { c: first }, sms.token);
    if (started.errors) throw new Error(JSON.stringify(started.errors));
    const secret = started.data.startTotpSetup.secret as string;
    const confirmed = await t.gql(CONFIRM_TOTP, { c: currentTotp(t, secret) }, sms.token);
    if (confirmed.errors) throw new Error(JSON.stringify(confirmed.errors));
    nextStep(t);
    const authenticator = new SoftAuthenticator();
    let credentialId = 'none';
    if (key) {
      const start = await t.gql(START_REGISTRATION, { c: second }, sms.token);
      if (start.errors) throw new Error(JSON.stringify(start.errors));
      const confirm = await t.gql(
        CONFIRM_REGISTRATION,
        { r: authenticator.register(start.data.startWebAuthnRegistration.options, { origin: ORIGIN }) },
        sms.token,
      );
      if (confirm.errors) throw new Error(JSON.stringify(confirm.errors));
      credentialId = confirm.data.confirmWebAuthnRegistration.status.webAuthnCredentials[0].id;
    }
    return { userId, token: sms.token, phone: number, secret, recoveryCodes, authenticator, credentialId };
  }
  type User = Awaited<ReturnType<typeof userWithEveryFactor>>;

  /** An organization owned by a user with a key, requiring `requirement` of its members. */
  async function organization(members: string[], requirement: 'phishing-resistant' | 'any', graceDays = 0) {
    const org = uniqueId('org');
    const owner = await userWithEveryFactor('owner');
    await syncOrganization(t, org, {
      [owner.userId]: 'OWNER',
      ...Object.fromEntries(members.map((member) => [member, 'MEMBER' as const])),
    });
    const result =
      requirement === 'any'
        ? await t.gql(REQUIRE, { o: org }, owner.token)
        : await t.gql(REQUIRE_PR, { o: org, d: graceDays }, owner.token);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return { org, owner };
  }

  const phishableAnswers = async (user: User) => {
    expect((await t.gql(SEND_SMS, {}, user.token)).errors).toBeUndefined();
    return [
      ['TOTP', currentTotp(t, user.secret)],
      ['SMS', sns.lastCodeTo(user.phone)],
      ['recovery code', user.recoveryCodes[0]],
    ];
  };
  const counters = async (user: User) => ({
    row: await t.sql('SELECT failed_attempts_in_row, last_totp_step FROM users WHERE id = ?', [user.userId]),
    recoveryCodesRemaining: (await t.gql(RECOVERY_REMAINING, {}, user.token)).data.me.twoFactor.recoveryCodesRemaining,
    pending: await t.sql('SELECT method FROM pending_setups WHERE user_id = ?', [user.userId]),
  });
  const keyAnswer = async (user: User) => {
    const options = (await t.gql(START_STEP_UP, {}, user.token)).data.startWebAuthnStepUp.options;
    return user.authenticator.authenticate(options, { origin: ORIGIN });
  };

  it('refuses TOTP, SMS and recovery codes for every step-up, naming the organizations, spending and counting nothing', async () => {
    const user = await userWithEveryFactor('member');
    const { org: first } = await organization([user.userId], 'phishing-resistant');
    const { org: second } = await organization([user.userId], 'phishing-resistant', 7);
    await organization([user.userId], 'any');
    const before = await counters(user);
    const answers = await phishableAnswers(user);
    // More refusals than the per-user limit of failures (10): none of them counts.
    for (const [operation, query] of Object.entries(STEP_UPS)) {
      for (const [kind, code] of answers) {
        const result = await t.gql(query, { c: code, id: user.credentialId }, user.token);
        // Turning two-factor off is refused first because the organizations require two-factor at all.
        const expected =
          operation === 'disableTwoFactor'
            ? 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION'
            : 'PHISHING_RESISTANT_ANSWER_REQUIRED';
        expect([operation, kind, errorCode(result)]).toEqual([operation, kind, expected]);
        if (expected === 'PHISHING_RESISTANT_ANSWER_REQUIRED') {
          expect(result.errors![0].extensions!.organizationIds).toEqual([first, second].sort());
        }
      }
    }
    expect(await counters(user)).toEqual(before);

    // The key still steps up (and is not RATE_LIMITED): the refusals were never attempts.
    const viewed = await t.gql(STEP_UPS.viewRecoveryCodes, { w: await keyAnswer(user) }, user.token);
    expect(viewed.errors).toBeUndefined();
    // Nor were the codes spent: the recovery code still works once nothing requires a key.
    const [code] = user.recoveryCodes;
    for (const org of [first, second]) {
      const owner = (
        await t.sql("SELECT user_id FROM memberships WHERE organization_id = ? AND role = 'OWNER'", [org])
      )[0].user_id as string;
      expect((await t.gql(STOP, { o: org }, await t.token(owner))).errors).toBeUndefined();
    }
    const relaxed = await t.gql(STEP_UPS.viewRecoveryCodes, { c: code }, user.token);
    expect(relaxed.errors).toBeUndefined();
  });

  it('decides again under the locks: a requirement that starts while the answer waits refuses it, spending nothing', async () => {
    const user = await userWithEveryFactor('race');
    const { org } = await organization([user.userId], 'any');
    const code = currentTotp(t, user.secret);
    const before = await counters(user);
    // Hold the user's row: the step-up passes its first check (nothing requires a key yet) and waits in its transaction.
    const locker = await createConnection({ uri: t.databaseUrl });
    try {
      await locker.query('START TRANSACTION');
      await locker.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [user.userId]);
      const pending = t.gql(STEP_UPS.viewRecoveryCodes, { c: code }, user.token);
      await eventually(async () => {
        const [rows] = await locker.query<any[]>(
          "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = ? AND info LIKE 'SELECT % FROM users WHERE id = % FOR UPDATE' AND id <> CONNECTION_ID()",
          [new URL(t.databaseUrl).pathname.slice(1)],
        );
        return Number(rows[0].n) >= 1;
      });
      await locker.query('UPDATE organizations SET requires_phishing_resistant = 1 WHERE id = ?', [org]);
      await locker.query('COMMIT');
      const result = await pending;
      expect(errorCode(result)).toBe('PHISHING_RESISTANT_ANSWER_REQUIRED');
      expect(result.errors![0].extensions!.organizationIds).toEqual([org]);
    } finally {
      await locker.end();
    }
    expect(await counters(user)).toEqual(before);
    // The code was not spent: it works once the organization asks for any factor again.
    await t.sql('UPDATE organizations SET requires_phishing_resistant = 0 WHERE id = ?', [org]);
    expect((await t.gql(STEP_UPS.viewRecoveryCodes, { c: code }, user.token)).errors).toBeUndefined();
  });

  it('a key answers every kind of step-up', async () => {
    const user = await userWithEveryFactor('member');
    await organization([user.userId], 'phishing-resistant');
    const registered = await t.gql(START_REGISTRATION, { w: await keyAnswer(user) }, user.token);
    expect(registered.errors).toBeUndefined();
    const totp = await t.gql(START_TOTP, { w: await keyAnswer(user) }, user.token);
    expect(totp.errors).toBeUndefined();
    const removed = await t.gql(STEP_UPS.removeSms, { w: await keyAnswer(user) }, user.token);
    expect(removed.errors).toBeUndefined();
  });

  it('codes still step up for a member without a key (to register one), and where only any factor is required', async () => {
    const withoutKey = await userWithEveryFactor('no-key', { key: false });
    const withKey = await userWithEveryFactor('any');
    await organization([withoutKey.userId], 'phishing-resistant', 7);
    await organization([withKey.userId], 'any');
    const start = await t.gql(START_REGISTRATION, { c: currentTotp(t, withoutKey.secret) }, withoutKey.token);
    expect(start.errors).toBeUndefined();
    const viewed = await t.gql(STEP_UPS.viewRecoveryCodes, { c: currentTotp(t, withKey.secret) }, withKey.token);
    expect(viewed.errors).toBeUndefined();
  });

  it('a user with a key in no such organization steps up with a code', async () => {
    const user = await userWithEveryFactor('alone');
    const viewed = await t.gql(STEP_UPS.viewRecoveryCodes, { c: user.recoveryCodes[0] }, user.token);
    expect(viewed.errors).toBeUndefined();
  });
});
