import { decodeJwt } from 'jose';
import { FakeSns } from '../support/fake-sns';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { startLogin } from '../support/trusted-devices';
import { currentTotp, enrollSms, nextStep } from '../support/two-factor';

const ORIGIN = 'http://localhost:5173';
const START_REGISTRATION = 'mutation($c: String) { startWebAuthnRegistration(code: $c) { options } }';
const CONFIRM_REGISTRATION =
  'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r, name: "Key") { status { enabled } } }';
const START_TOTP = 'mutation($c: String) { startTotpSetup(code: $c) { secret } }';
const CONFIRM_TOTP = 'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }';
const START = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id webAuthnOptions } }';
const SEND = 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }';
const VERIFY =
  'mutation($id: ID!, $c: String, $w: JSON) { verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w, rememberDevice: true) { assertion deviceToken } }';

/**
 * Contract README, "Enforcement": a trusted device keeps the strength of the
 * sign-in that remembered it. A device start's assertion says `["device", "hwk"]`
 * only when the device was remembered at a sign-in with a key: a browser a
 * phishing proxy had remembered with a relayed code never passes for a key.
 */
describe('a trusted device keeps the strength of the sign-in that remembered it', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let loginService: string;
  let user: { userId: string; phone: string; secret: string; recoveryCodes: string[]; key: SoftAuthenticator };
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({
      env: { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: ORIGIN, SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url },
    });
    loginService = await t.token('login-service', ['twofactor:login']);
    // One user with every factor: SMS, TOTP, a key, recovery codes.
    const userId = uniqueId('strength');
    const phone = '+14155550133';
    const sms = await enrollSms(t, sns, userId, phone);
    const totp = await t.gql(START_TOTP, { c: sms.recoveryCodes[0] }, sms.token);
    const secret = totp.data.startTotpSetup.secret as string;
    expect((await t.gql(CONFIRM_TOTP, { c: currentTotp(t, secret) }, sms.token)).errors).toBeUndefined();
    nextStep(t);
    const key = new SoftAuthenticator();
    const start = await t.gql(START_REGISTRATION, { c: sms.recoveryCodes[1] }, sms.token);
    const registered = await t.gql(
      CONFIRM_REGISTRATION,
      { r: key.register(start.data.startWebAuthnRegistration.options, { origin: ORIGIN }) },
      sms.token,
    );
    expect(registered.errors).toBeUndefined();
    user = { userId, phone, secret, recoveryCodes: sms.recoveryCodes.slice(2), key };
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  /** A sign-in remembering the browser; `answer` picks the factor. Returns the device token and the sign-in's amr. */
  async function remember(answer: (challenge: { id: string; webAuthnOptions: any }) => { c?: string; w?: unknown }) {
    const challenge = (await t.gql(START, { u: user.userId }, loginService)).data.startLoginChallenge;
    const verified = await t.gql(VERIFY, { id: challenge.id, ...answer(challenge) });
    expect(verified.errors).toBeUndefined();
    nextStep(t);
    const { assertion, deviceToken } = verified.data.verifyLoginChallenge;
    return { deviceToken: deviceToken as string, amr: decodeJwt(assertion).amr };
  }
  const deviceStartAmr = async (deviceToken: string) => {
    const started = await startLogin(t, loginService, user.userId, deviceToken);
    expect(started.assertion).not.toBeNull();
    return decodeJwt(started.assertion!).amr;
  };

  it.each([
    ['TOTP', () => ({ c: currentTotp(t, user.secret) }), ['otp']],
    [
      'SMS',
      async (challenge: { id: string }) => {
        await t.gql(SEND, { id: challenge.id });
        return { c: sns.lastCodeTo(user.phone) };
      },
      ['sms'],
    ],
    ['a recovery code', () => ({ c: user.recoveryCodes.shift() }), ['recovery']],
  ])('remembered at a sign-in with %s: ["device"]', async (_name, answerOf, signInAmr) => {
    const challenge = (await t.gql(START, { u: user.userId }, loginService)).data.startLoginChallenge;
    const verified = await t.gql(VERIFY, { id: challenge.id, ...(await answerOf(challenge)) });
    expect(verified.errors).toBeUndefined();
    nextStep(t);
    const { assertion, deviceToken } = verified.data.verifyLoginChallenge;
    expect(decodeJwt(assertion).amr).toEqual(signInAmr);
    expect(await deviceStartAmr(deviceToken)).toEqual(['device']);
    // Every use of it says the same.
    expect(await deviceStartAmr(deviceToken)).toEqual(['device']);
  });

  it('remembered at a sign-in with a key: ["device", "hwk"], with or without user verification', async () => {
    const verified = await remember((challenge) => ({
      w: user.key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN }),
    }));
    expect(verified.amr).toEqual(['hwk', 'user']);
    expect(await deviceStartAmr(verified.deviceToken)).toEqual(['device', 'hwk']);
    expect(await deviceStartAmr(verified.deviceToken)).toEqual(['device', 'hwk']);
    const quiet = await remember((challenge) => ({
      w: user.key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN, userVerified: false }),
    }));
    expect(quiet.amr).toEqual(['hwk']);
    expect(await deviceStartAmr(quiet.deviceToken)).toEqual(['device', 'hwk']);
  });

  it('the device row records the strength (as the assertion will name it in acr), and a row without it counts as no key', async () => {
    const withCode = await remember(() => ({ c: currentTotp(t, user.secret) }));
    const withKey = await remember((challenge) => ({
      w: user.key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN }),
    }));
    const rows = await t.sql(
      'SELECT sign_in_strength FROM trusted_devices WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 2',
      [user.userId],
    );
    expect(rows.map((row) => row.sign_in_strength)).toEqual(['phr', 'mfa']);
    // A device remembered before the strength was recorded has the column's default: never a key.
    await t.sql(
      "UPDATE trusted_devices SET sign_in_strength = DEFAULT WHERE user_id = ? AND sign_in_strength = 'phr'",
      [user.userId],
    );
    expect(await deviceStartAmr(withKey.deviceToken)).toEqual(['device']);
    expect(await deviceStartAmr(withCode.deviceToken)).toEqual(['device']);
  });
});
