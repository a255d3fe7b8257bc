import { createConnection } from 'mysql2/promise';
import { eventually } from '../support/eventually';
import { FakeSns } from '../support/fake-sns';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { errorCode, type GqlResult, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, nextStep } from '../support/two-factor';

/**
 * Issue 21, finding 3: with a stolen, freshly signed-in session an attacker
 * starts setups while two-factor is off; the victim then turns two-factor on
 * with another factor; later, with the old session, the attacker confirms and
 * logs in with them. A setup started without a step-up is discarded when
 * two-factor turns on by another factor: confirming it is NOT_FOUND, as with
 * none pending (contract, "Second factors").
 */
const ORIGIN = 'http://localhost:5173';
/** Shorter than the time the attacker waits, so the attacker's session is no recent sign-in when confirming. */
const REAUTH_MAX_AGE_SECONDS = 120;

type Kind = 'TOTP' | 'SMS' | 'WEBAUTHN';

const START_TOTP = 'mutation($c: String) { startTotpSetup(code: $c) { secret } }';
const CONFIRM_TOTP = 'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes status { methods } } }';
const START_SMS =
  'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked } }';
const CONFIRM_SMS = 'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes status { methods } } }';
const START_KEY = 'mutation($c: String) { startWebAuthnRegistration(code: $c) { options } }';
const CONFIRM_KEY =
  'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r) { recoveryCodes status { methods } } }';
const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id methods webAuthnOptions } }';
const VERIFY_LOGIN =
  'mutation($id: ID!, $c: String, $w: JSON) { verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w) { method } }';
const STATUS = '{ me { twoFactor { enabled methods } } }';

let phoneCounter = 0;
const newPhone = () => `+1415555${String(1000 + ((process.pid * 13 + phoneCounter++) % 9000)).padStart(4, '0')}`;

const ok = <T = any>(result: GqlResult<T>, what: string): T => {
  if (result.errors) throw new Error(`${what}: ${JSON.stringify(result.errors)}`);
  return result.data;
};

describe('a setup started while two-factor was off, once another factor turns it on', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let loginService: string;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({
      env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, REAUTH_MAX_AGE: String(REAUTH_MAX_AGE_SECONDS) },
    });
    loginService = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  /** A setup of `kind` started (with `stepUp` when two-factor is on); `confirm` answers it with the new factor's own answer. */
  async function startSetup(kind: Kind, token: string, stepUp?: string) {
    switch (kind) {
      case 'TOTP': {
        const { secret } = ok(await t.gql(START_TOTP, { c: stepUp }, token), 'startTotpSetup').startTotpSetup;
        return {
          confirm: (as: string) => t.gql(CONFIRM_TOTP, { c: currentTotp(t, secret) }, as),
          /** A login answered with this factor. */
          login: async (challengeId: string, _webAuthnOptions?: unknown) =>
            t.gql(VERIFY_LOGIN, { id: challengeId, c: currentTotp(t, secret) }),
        };
      }
      case 'SMS': {
        const phone = newPhone();
        ok(await t.gql(START_SMS, { p: phone, c: stepUp }, token), 'startSmsSetup');
        const code = sns.lastCodeTo(phone);
        return {
          confirm: (as: string) => t.gql(CONFIRM_SMS, { c: code }, as),
          login: async (challengeId: string, _webAuthnOptions?: unknown) => {
            // A login code goes to the user's confirmed number only: this one's last code is its setup code.
            await t.gql('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', {
              id: challengeId,
            });
            return t.gql(VERIFY_LOGIN, { id: challengeId, c: sns.lastCodeTo(phone) });
          },
        };
      }
      case 'WEBAUTHN': {
        const key = new SoftAuthenticator();
        const { options } = ok(
          await t.gql(START_KEY, { c: stepUp }, token),
          'startWebAuthnRegistration',
        ).startWebAuthnRegistration;
        const response = key.register(options, { origin: ORIGIN });
        return {
          confirm: (as: string) => t.gql(CONFIRM_KEY, { r: response }, as),
          login: async (challengeId: string, webAuthnOptions: any) => {
            // No options means no key of the user's to answer with; answer the options a login page would still be shown.
            const asked = webAuthnOptions ?? {
              challenge: Buffer.alloc(32, 7).toString('base64url'),
              rpId: 'localhost',
            };
            return t.gql(VERIFY_LOGIN, {
              id: challengeId,
              w: key.authenticate({ ...asked, allowCredentials: [] }, { origin: ORIGIN }),
            });
          },
        };
      }
    }
  }

  /** The victim turns two-factor on with `kind`, from its own fresh sign-in. */
  async function turnOn(kind: Kind, userId: string) {
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const setup = await startSetup(kind, token);
    const confirmed = await setup.confirm(token);
    const result = ok(confirmed, `turning on with ${kind}`);
    const answer = Object.values(result)[0] as { recoveryCodes: string[] | null; status: { methods: string[] } };
    expect(answer.recoveryCodes).toHaveLength(10);
    expect(answer.status.methods).toEqual([kind]);
    return { token, setup };
  }

  const statusOf = async (userId: string) => ok(await t.gql(STATUS, {}, await t.token(userId)), 'status').me.twoFactor;

  /** Waits (test time) past the re-sign-in window, within every pending setup's lifetime, at a fresh TOTP step. */
  const later = () => {
    t.clock.advance((REAUTH_MAX_AGE_SECONDS + 60) * 1000);
    nextStep(t);
  };

  it('the attack of issue 21: TOTP and a security key started on a stolen session, SMS turned on by the victim; neither confirms nor logs in', async () => {
    const userId = uniqueId('discard-attack');
    // The stolen session, freshly signed in: two-factor is off, so no step-up is asked.
    const stolen = await t.token(userId, [], { authTime: t.clock.now() });
    const attackerTotp = await startSetup('TOTP', stolen);
    const attackerKey = await startSetup('WEBAUTHN', stolen);

    t.clock.advance(30_000);
    await turnOn('SMS', userId);

    later();
    // The same session later: its sign-in is old now, but with two-factor on no recent sign-in is asked.
    const old = await t.token(userId, [], { authTime: new Date(t.clock.now().getTime() - 240_000) });
    const totp = await attackerTotp.confirm(old);
    const key = await attackerKey.confirm(old);
    expect([errorCode(totp), errorCode(key)]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(totp.errors![0].message).toBe('No TOTP authenticator setup is pending: start it again.');
    expect(await statusOf(userId)).toEqual({ enabled: true, methods: ['SMS'] });

    const challenge = ok(await t.gql(START_LOGIN, { u: userId }, loginService), 'login').startLoginChallenge;
    expect(challenge.methods).toEqual(['SMS', 'RECOVERY_CODE']);
    expect(challenge.webAuthnOptions).toBeNull();
    expect(errorCode(await attackerTotp.login(challenge.id))).toBe('INVALID_CODE');
    expect(errorCode(await attackerKey.login(challenge.id, challenge.webAuthnOptions))).toBe('INVALID_CODE');
  });

  const PAIRS: [Kind, Kind][] = [
    ['TOTP', 'SMS'],
    ['TOTP', 'WEBAUTHN'],
    ['SMS', 'TOTP'],
    ['SMS', 'WEBAUTHN'],
    ['WEBAUTHN', 'TOTP'],
    ['WEBAUTHN', 'SMS'],
  ];

  it.each(PAIRS)(
    'a %s setup started before two-factor was on, turned on with %s, is NOT_FOUND at confirmation and answers no login',
    async (pending, enabling) => {
      const userId = uniqueId('discard');
      const stolen = await t.token(userId, [], { authTime: t.clock.now() });
      const attacker = await startSetup(pending, stolen);
      t.clock.advance(30_000);
      await turnOn(enabling, userId);
      later();
      const old = await t.token(userId, [], { authTime: new Date(t.clock.now().getTime() - 240_000) });

      const confirmed = await attacker.confirm(old);
      expect(errorCode(confirmed)).toBe('NOT_FOUND');
      // Nothing was counted: it is the answer for a setup that is not there.
      const [row] = await t.sql('SELECT failed_attempts_in_row AS n FROM users WHERE id = ?', [userId]);
      expect(Number(row.n)).toBe(0);
      expect(await statusOf(userId)).toEqual({ enabled: true, methods: [enabling] });
      // Not even with a fresh sign-in: only a setup started with a step-up, after two-factor turned on, adds a factor.
      expect(errorCode(await attacker.confirm(await t.token(userId, [], { authTime: t.clock.now() })))).toBe(
        'NOT_FOUND',
      );
      expect(await t.sql('SELECT method FROM pending_setups WHERE user_id = ?', [userId])).toEqual([]);

      const challenge = ok(await t.gql(START_LOGIN, { u: userId }, loginService), 'login').startLoginChallenge;
      expect(challenge.methods).not.toContain(pending);
      expect(errorCode(await attacker.login(challenge.id, challenge.webAuthnOptions))).toMatch(
        /^(INVALID_CODE|NOT_ENROLLED)$/,
      );
    },
  );

  it("the user's own second setup, started before the first factor was confirmed, is discarded too: started again with a step-up, it confirms", async () => {
    const userId = uniqueId('discard-own');
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const totp = await startSetup('TOTP', token);
    const sms = await startSetup('SMS', token);
    ok(await sms.confirm(token), 'confirming SMS');
    nextStep(t);
    expect(errorCode(await totp.confirm(token))).toBe('NOT_FOUND');

    // With two-factor on, a step-up (an SMS code) starts it again, and that setup stands.
    ok(await t.gql('mutation { sendSmsCode { phoneNumberMasked } }', {}, token), 'sendSmsCode');
    const phone = sns.published.at(-1)!.phoneNumber;
    const again = await startSetup('TOTP', token, sns.lastCodeTo(phone));
    nextStep(t);
    expect(ok(await again.confirm(token), 'confirming TOTP').confirmTotpSetup.status.methods).toEqual(['TOTP', 'SMS']);
  });

  it('a setup started without a step-up, saved only after another factor turned two-factor on, never confirms', async () => {
    const userId = uniqueId('discard-race');
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const phone = newPhone();
    ok(await t.gql(START_SMS, { p: phone }, token), 'startSmsSetup');
    // Holds back the TOTP setup's row (a gap lock where it goes): startTotpSetup reads two-factor off, then waits to save.
    const blocker = await createConnection({ uri: t.databaseUrl });
    const waiting = async (n: number) =>
      Number(
        (
          await t.sql(
            `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX x
               JOIN information_schema.PROCESSLIST p ON p.ID = x.trx_mysql_thread_id
              WHERE x.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`,
          )
        )[0].n,
      ) >= n;
    try {
      await blocker.query('START TRANSACTION');
      await blocker.query("SELECT * FROM pending_setups WHERE user_id = ? AND method = 'TOTP' FOR UPDATE", [userId]);
      const started = t.gql(START_TOTP, {}, token);
      await eventually(() => waiting(1));
      // Meanwhile the SMS setup turns two-factor on (or waits for the setup's transaction, which holds the user's row).
      let turnedOn: GqlResult<any> | undefined;
      const turningOn = t.gql(CONFIRM_SMS, { c: sns.lastCodeTo(phone) }, token).then((result) => (turnedOn = result));
      await eventually(async () => turnedOn !== undefined || (await waiting(2)));
      await blocker.query('COMMIT');
      const [setup] = await Promise.all([started, turningOn]);
      ok(turnedOn!, 'confirming SMS');
      const secret = ok(setup, 'startTotpSetup').startTotpSetup.secret;
      expect(errorCode(await t.gql(CONFIRM_TOTP, { c: currentTotp(t, secret) }, token))).toBe('NOT_FOUND');
      expect(await statusOf(userId)).toEqual({ enabled: true, methods: ['SMS'] });
    } finally {
      await blocker.end();
    }
  });
});
