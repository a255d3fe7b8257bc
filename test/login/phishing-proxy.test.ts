import { jwtVerify } from 'jose';
import { syncOrganization } from '../support/directory';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { ASSERTION_SECRET, errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { startLogin } from '../support/trusted-devices';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const ORIGIN = 'http://localhost:5173';
const START_REGISTRATION =
  'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { options expiresAt } }';
const CONFIRM_REGISTRATION =
  'mutation($r: JSON!, $n: String) { confirmWebAuthnRegistration(response: $r, name: $n) { status { phishingResistant } } }';
const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id webAuthnOptions } }';
const VERIFY =
  'mutation($id: ID!, $c: String, $w: JSON, $r: Boolean) { verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w, rememberDevice: $r, deviceName: "Laptop") { method assertion deviceToken } }';
const REQUIRE_PR =
  'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: 0) { id } }';
const ACCESS =
  'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason } }';

/**
 * Issue 21, finding 2: a real-time phishing proxy relays what the member types
 * (password, TOTP code, recovery code) to the real login service. Under a
 * phishing-resistant requirement none of it may get the proxy in, keep it in
 * (a trusted device), or let it plant its own passkey; only a sign-in with the
 * member's key does.
 */
describe('a phishing proxy against a phishing-resistant organization', () => {
  let t: TestApp;
  let loginService: string;
  let reader: string;
  beforeAll(async () => {
    t = await startTestApp({
      env: { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: ORIGIN, IP_ATTEMPTS_PER_MINUTE: '100000' },
    });
    loginService = await t.token('login-service', ['twofactor:login']);
    reader = await t.token('access-checker', ['twofactor:read']);
  });
  afterAll(() => t.close());

  /** Registers a key behind a step-up with `code` (or, with no code, as the first factor). */
  async function registerKey(token: string, key: SoftAuthenticator, code?: string) {
    const start = await t.gql(START_REGISTRATION, { c: code }, token);
    if (start.errors) throw new Error(JSON.stringify(start.errors));
    const confirm = await t.gql(
      CONFIRM_REGISTRATION,
      { r: key.register(start.data.startWebAuthnRegistration.options, { origin: ORIGIN }), n: 'YubiKey' },
      token,
    );
    if (confirm.errors) throw new Error(JSON.stringify(confirm.errors));
  }

  async function amrOf(assertion: string): Promise<string[]> {
    const { payload } = await jwtVerify(assertion, new TextEncoder().encode(ASSERTION_SECRET), {
      issuer: 'twofactor',
      audience: 'login',
      algorithms: ['HS256'],
      currentDate: t.clock.now(),
    });
    return payload.amr as string[];
  }

  /** The login service's sign-in: the challenge answered with a code or the key, optionally remembering the browser. */
  async function signIn(userId: string, answer: { code?: string; key?: SoftAuthenticator }, remember = false) {
    const challenge = (await t.gql(START_LOGIN, { u: userId }, loginService)).data.startLoginChallenge;
    const webAuthn = answer.key?.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
    const verified = await t.gql(VERIFY, { id: challenge.id, c: answer.code, w: webAuthn, r: remember });
    if (verified.errors) throw new Error(JSON.stringify(verified.errors));
    nextStep(t);
    const { assertion, deviceToken } = verified.data.verifyLoginChallenge;
    return { amr: await amrOf(assertion), deviceToken: deviceToken as string | null };
  }

  /** What the login service asks on each access, with the session's amr (password first, then the assertion's). */
  async function access(organizationId: string, userId: string, sessionAmr?: string[]) {
    const result = await t.gql(ACCESS, { o: organizationId, u: userId, s: sessionAmr }, reader);
    expect(result.errors).toBeUndefined();
    return result.data.organizationAccess;
  }

  it('gets nowhere with relayed codes, a device they remembered, or a step-up; the key gets the member in', async () => {
    const org = uniqueId('org');
    const owner = await t.token(uniqueId('owner'), [], { authTime: t.clock.now() });
    const ownerId = (JSON.parse(Buffer.from(owner.split('.')[1], 'base64url').toString()) as { sub: string }).sub;
    await registerKey(owner, new SoftAuthenticator());
    const member = await enrollTotp(t, uniqueId('member'));
    const key = new SoftAuthenticator();
    await registerKey(member.token, key, currentTotp(t, member.secret));
    nextStep(t);
    await syncOrganization(t, org, { [ownerId]: 'OWNER', [member.userId]: 'MEMBER' });
    expect((await t.gql(REQUIRE_PR, { o: org }, owner)).errors).toBeUndefined();
    const refused = { allowed: false, reason: 'SESSION_FACTOR_NOT_ACCEPTED' };
    const allowed = { allowed: true, reason: 'OK' };

    // 1. The proxy relays the password and a TOTP code, asking to remember "its" browser.
    const relayed = await signIn(member.userId, { code: currentTotp(t, member.secret) }, true);
    expect(relayed.amr).toEqual(['otp']);
    expect(relayed.deviceToken).not.toBeNull();
    expect(await access(org, member.userId, ['pwd', ...relayed.amr])).toEqual(refused);
    // A login service that does not say how the session signed in: refused too (fails closed).
    expect(await access(org, member.userId)).toEqual(refused);

    // 2. Later, the device token it was given skips the second factor, but keeps the strength of that sign-in.
    const deviceStart = await startLogin(t, loginService, member.userId, relayed.deviceToken);
    expect(deviceStart.assertion).not.toBeNull();
    const deviceAmr = await amrOf(deviceStart.assertion!);
    expect(deviceAmr).toEqual(['device']);
    expect(await access(org, member.userId, ['pwd', ...deviceAmr])).toEqual(refused);

    // 3. A relayed recovery code.
    const recovery = await signIn(member.userId, { code: member.recoveryCodes[0] });
    expect(recovery.amr).toEqual(['recovery']);
    expect(await access(org, member.userId, ['pwd', ...recovery.amr])).toEqual(refused);

    // 4. Planting its own passkey behind a relayed TOTP step-up: refused before it counts, nothing pending.
    const planted = await t.gql(START_REGISTRATION, { c: currentTotp(t, member.secret) }, member.token);
    expect(errorCode(planted)).toBe('PHISHING_RESISTANT_ANSWER_REQUIRED');
    expect(planted.errors![0].extensions!.organizationIds).toEqual([org]);
    expect(await t.sql('SELECT failed_attempts_in_row AS n FROM users WHERE id = ?', [member.userId])).toEqual([
      { n: 0 },
    ]);
    expect(await t.sql('SELECT method FROM pending_setups WHERE user_id = ?', [member.userId])).toEqual([]);

    // 5. The member with the key: in.
    const withKey = await signIn(member.userId, { key });
    expect(withKey.amr).toEqual(['hwk', 'user']);
    expect(await access(org, member.userId, ['pwd', ...withKey.amr])).toEqual(allowed);

    // 6. A browser remembered at a sign-in with the key keeps its strength.
    const remembered = await signIn(member.userId, { key }, true);
    const keyDevice = await startLogin(t, loginService, member.userId, remembered.deviceToken);
    const keyDeviceAmr = await amrOf(keyDevice.assertion!);
    expect(keyDeviceAmr).toEqual(['device', 'hwk']);
    expect(await access(org, member.userId, ['pwd', ...keyDeviceAmr])).toEqual(allowed);

    // And the proxy's device still is what it was.
    const again = await startLogin(t, loginService, member.userId, relayed.deviceToken);
    expect(await amrOf(again.assertion!)).toEqual(['device']);
  });
});
