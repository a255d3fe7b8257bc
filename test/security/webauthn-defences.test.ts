import { ConfigError, loadConfig } from '../../src/config/config';
import { type CoseKey, craftRegistration, ecKey, offCurve, rsaKey } from '../support/crafted-registration';
import { syncOrganization } from '../support/directory';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { errorCode, type GqlResult, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

/**
 * The WebAuthn defences SECURITY.md claims beyond the factor's own tests
 * (test/factors/webauthn/): the relying-party settings cannot be half set; with
 * none in production WebAuthn is off, saying which settings turn it on; an answer
 * is bound to the purpose its challenge was issued for; every JSON argument is
 * bounded and shaped before anything counts or changes; and the
 * phishing-resistant policy holds with real keys, end to end.
 */

/** The development default allows the service's own port and WEB_PORT (5173) on localhost. */
const ORIGIN = 'http://localhost:5173';

const START_REGISTRATION =
  'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { options } }';
const CONFIRM_REGISTRATION =
  'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r) { recoveryCodes status { webAuthnCredentials { id } } } }';
const START_STEP_UP = 'mutation { startWebAuthnStepUp { options } }';
const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id webAuthnOptions } }';
const VERIFY_LOGIN =
  'mutation($id: ID!, $c: String, $w: JSON) { verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w) { method } }';
const VIEW_CODES = 'mutation($c: String, $w: JSON) { viewRecoveryCodes(code: $c, webAuthn: $w) { generatedAt } }';
const STATUS =
  'query($u: ID!) { user(id: $u) { twoFactor { enabled methods recoveryCodesRemaining webAuthnCredentials { id name } } } }';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/twofactor',
  REDIS_URL: 'redis://cache:6379/0',
  AUTH_JWT_SECRET: 'a'.repeat(40),
  ASSERTION_JWT_SECRET: 'b'.repeat(40),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  SMS_PROVIDER: 'sns',
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'twofactor',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const data = <T = any>(result: GqlResult<T>, what: string): T => {
  if (result.errors) throw new Error(`${what}: ${JSON.stringify(result.errors)}`);
  return result.data as T;
};

describe('the relying-party settings', () => {
  it('outside production, with neither, allow localhost on the service port and WEB_PORT', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/tf-webauthn-settings', PORT: '4000' });
    expect(config.webAuthn).toEqual({
      rpId: 'localhost',
      rpName: 'TwoFactor',
      origins: ['http://localhost:4000', 'http://localhost:5173'],
    });
  });

  it('in production, with neither, turn WebAuthn off (the service starts)', () => {
    expect(loadConfig(production).webAuthn).toBeNull();
  });

  it('with only one of WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS, refuse to start, in production or not', () => {
    for (const env of [production, { DATA_DIR: '/tmp/tf-webauthn-settings' }]) {
      expect(problemsOf({ ...env, WEBAUTHN_RP_ID: 'example.com' })).toEqual([
        expect.stringContaining('WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS: set both'),
      ]);
      expect(problemsOf({ ...env, WEBAUTHN_ORIGINS: 'https://example.com' })).toEqual([
        expect.stringContaining('WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS: set both'),
      ]);
    }
  });

  it.each([
    ['plain http', 'http://app.example.com'],
    ['another domain', 'https://example.org'],
    ['a domain that only ends like the RP id', 'https://notexample.com'],
    ['a path', 'https://app.example.com/login'],
    ['no scheme', 'app.example.com'],
  ])('refuse an origin with %s', (_name, origin) => {
    expect(problemsOf({ ...production, WEBAUTHN_RP_ID: 'example.com', WEBAUTHN_ORIGINS: origin })).toEqual([
      expect.stringContaining('WEBAUTHN_ORIGINS'),
    ]);
  });

  it('accept exact https origins on the RP id and its subdomains, and name the RP (default TOTP_ISSUER)', () => {
    const config = loadConfig({
      ...production,
      WEBAUTHN_RP_ID: 'example.com',
      WEBAUTHN_ORIGINS: 'https://example.com, https://app.example.com',
    });
    expect(config.webAuthn).toEqual({
      rpId: 'example.com',
      rpName: 'TwoFactor',
      origins: ['https://example.com', 'https://app.example.com'],
    });
  });
});

describe('WebAuthn turned off (production without the settings)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      configure: (config) => {
        config.webAuthn = null;
      },
    });
  });
  afterAll(() => t.close());

  it('refuses every WebAuthn operation with FORBIDDEN naming the settings, before anything is counted', async () => {
    const user = await enrollTotp(t, uniqueId('wa-off'));
    const fresh = await t.token(uniqueId('wa-off-new'), [], { authTime: t.clock.now() });
    const login = await t.token('login-service', ['twofactor:login']);
    const challenge = data(await t.gql(START_LOGIN, { u: user.userId }, login), 'login').startLoginChallenge;
    expect(challenge.webAuthnOptions).toBeNull();

    const refused = [
      await t.gql(START_REGISTRATION, {}, fresh),
      await t.gql(START_STEP_UP, {}, user.token),
      await t.gql(VERIFY_LOGIN, { id: challenge.id, w: { id: 'x' } }),
      await t.gql(VIEW_CODES, { w: { id: 'x' } }, user.token),
    ];
    for (const result of refused) {
      expect(errorCode(result)).toBe('FORBIDDEN');
      expect(result.errors![0].message).toMatch(/WEBAUTHN_RP_ID.*WEBAUTHN_ORIGINS/);
    }
    const [row] = await t.sql('SELECT failed_attempts_in_row AS n FROM users WHERE id = ?', [user.userId]);
    expect(Number(row.n)).toBe(0);
    // The other factors work as before.
    const verified = await t.gql(VERIFY_LOGIN, { id: challenge.id, c: currentTotp(t, user.secret) });
    expect(verified.data?.verifyLoginChallenge.method).toBe('TOTP');
  });
});

describe('with real keys', () => {
  let t: TestApp;
  let login: string;
  beforeAll(async () => {
    t = await startTestApp();
    login = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(() => t.close());

  /** A user whose first factor is a (software) security key. */
  async function keyUser(prefix: string) {
    const userId = uniqueId(prefix);
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const key = new SoftAuthenticator();
    const start = data(await t.gql(START_REGISTRATION, {}, token), 'registering');
    const confirm = data(
      await t.gql(
        CONFIRM_REGISTRATION,
        { r: key.register(start.startWebAuthnRegistration.options, { origin: ORIGIN }) },
        token,
      ),
      'confirming',
    ).confirmWebAuthnRegistration;
    return {
      userId,
      token,
      key,
      credentialId: confirm.status.webAuthnCredentials[0].id as string,
      recoveryCodes: confirm.recoveryCodes as string[],
    };
  }
  type KeyUser = Awaited<ReturnType<typeof keyUser>>;

  /** Adds TOTP behind a step-up with the user's key; returns the secret (its current step is then used). */
  async function addTotp(user: KeyUser): Promise<string> {
    const options = data(await t.gql(START_STEP_UP, {}, user.token), 'step-up').startWebAuthnStepUp.options;
    const secret = data(
      await t.gql(
        'mutation($w: JSON) { startTotpSetup(webAuthn: $w) { secret } }',
        { w: user.key.authenticate(options, { origin: ORIGIN }) },
        user.token,
      ),
      'totp',
    ).startTotpSetup.secret as string;
    data(
      await t.gql(
        'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
        { c: currentTotp(t, secret) },
        user.token,
      ),
      'totp',
    );
    nextStep(t);
    return secret;
  }

  const stepUpOptions = async (user: KeyUser) =>
    data(await t.gql(START_STEP_UP, {}, user.token), 'step-up').startWebAuthnStepUp.options;
  const loginChallenge = async (userId: string) =>
    data(await t.gql(START_LOGIN, { u: userId }, login), 'login').startLoginChallenge as {
      id: string;
      webAuthnOptions: any;
    };
  const failures = async (userId: string) =>
    Number((await t.sql('SELECT failed_attempts_in_row AS n FROM users WHERE id = ?', [userId]))[0].n);
  const status = async (userId: string) =>
    JSON.stringify((await t.gql(STATUS, { u: userId }, await t.token('reader', ['twofactor:read']))).body);

  describe('a stolen session cannot bind a key', () => {
    it('the first key needs a recent sign-in; with two-factor on, a step-up answer', async () => {
      const stale = await t.token(uniqueId('wa-stale'), [], { authTime: new Date(t.clock.now().getTime() - 3600_000) });
      expect(errorCode(await t.gql(START_REGISTRATION, {}, stale))).toBe('REAUTHENTICATION_REQUIRED');
      const user = await keyUser('wa-second');
      expect(errorCode(await t.gql(START_REGISTRATION, {}, user.token))).toBe('BAD_USER_INPUT');
      expect(errorCode(await t.gql(START_REGISTRATION, { c: '000000' }, user.token))).toBe('INVALID_CODE');
      expect(JSON.parse(await status(user.userId)).data.user.twoFactor.webAuthnCredentials).toHaveLength(1);
    });
  });

  describe("issue 21: broken keys, foreign frames, another user's handle", () => {
    const PHISHING =
      'query($u: ID!) { user(id: $u) { twoFactor { enabled phishingResistant webAuthnCredentials { id } } } }';
    const reader = () => t.token('reader', ['twofactor:read']);

    it.each<[string, () => CoseKey]>([
      ['a P-256 point not on its curve', () => offCurve(ecKey('P-256', -7, 1))],
      ['an ES256 key on the wrong curve', () => ecKey('P-384', -7, 2)],
      ['a 512-bit RSA key', () => rsaKey(512)],
      ['an RSA key with exponent 1', () => rsaKey(2048, 1)],
    ])(
      'a registration with %s is BAD_USER_INPUT, counts nothing, adds no key; the setup stays for a good key',
      async (_name, key) => {
        const userId = uniqueId('wa-weak');
        const token = await t.token(userId, [], { authTime: t.clock.now() });
        const options = data(await t.gql(START_REGISTRATION, {}, token), 'registering').startWebAuthnRegistration
          .options;
        const refused = await t.gql(
          CONFIRM_REGISTRATION,
          { r: craftRegistration(options, key(), { origin: ORIGIN }) },
          token,
        );
        expect(errorCode(refused)).toBe('BAD_USER_INPUT');
        expect(refused.errors![0].extensions!.field).toBe('response');
        const status = data(await t.gql(PHISHING, { u: userId }, await reader()), 'status').user.twoFactor;
        expect(status).toEqual({ enabled: false, phishingResistant: false, webAuthnCredentials: [] });
        expect(await failures(userId)).toBe(0);
        const good = await t.gql(
          CONFIRM_REGISTRATION,
          { r: craftRegistration(options, ecKey('P-256', -7, 1), { origin: ORIGIN }) },
          token,
        );
        expect(data(good, 'a good key').confirmWebAuthnRegistration.status.webAuthnCredentials).toHaveLength(1);
      },
    );

    it("a registration made in another origin's frame (crossOrigin: true) is refused", async () => {
      const userId = uniqueId('wa-frame');
      const token = await t.token(userId, [], { authTime: t.clock.now() });
      const options = data(await t.gql(START_REGISTRATION, {}, token), 'registering').startWebAuthnRegistration.options;
      const framed = craftRegistration(options, ecKey('P-256', -7, 1), {
        origin: ORIGIN,
        crossOrigin: true,
        topOrigin: 'https://evil.example.org',
      });
      expect(errorCode(await t.gql(CONFIRM_REGISTRATION, { r: framed }, token))).toBe('INVALID_CODE');
      expect(data(await t.gql(PHISHING, { u: userId }, await reader()), 'status').user.twoFactor.enabled).toBe(false);
    });

    it("a login answered in another origin's frame (crossOrigin: true) is refused", async () => {
      const user = await keyUser('wa-frame-login');
      const challenge = await loginChallenge(user.userId);
      const framed = user.key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN, crossOrigin: true });
      expect(errorCode(await t.gql(VERIFY_LOGIN, { id: challenge.id, w: framed }))).toBe('INVALID_CODE');
      expect(await failures(user.userId)).toBe(1);
    });

    it("a login answer carrying another user's handle is refused; the user's own handle, or none, is accepted", async () => {
      const alice = await keyUser('wa-handle-alice');
      const mallory = await keyUser('wa-handle-mallory');
      const mallorysHandle = mallory.key.authenticate(await stepUpOptions(mallory), { origin: ORIGIN }).response
        .userHandle!;
      const challenge = await loginChallenge(alice.userId);
      const answer = alice.key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
      expect(answer.response.userHandle).not.toBe(mallorysHandle);
      const relabelled = { ...answer, response: { ...answer.response, userHandle: mallorysHandle } };
      expect(errorCode(await t.gql(VERIFY_LOGIN, { id: challenge.id, w: relabelled }))).toBe('INVALID_CODE');

      const own = await loginChallenge(alice.userId);
      expect(
        errorCode(
          await t.gql(VERIFY_LOGIN, { id: own.id, w: alice.key.authenticate(own.webAuthnOptions, { origin: ORIGIN }) }),
        ),
      ).toBeUndefined();
      const none = await loginChallenge(alice.userId);
      const withoutHandle = alice.key.authenticate(none.webAuthnOptions, { origin: ORIGIN });
      delete (withoutHandle.response as { userHandle?: string }).userHandle;
      expect(errorCode(await t.gql(VERIFY_LOGIN, { id: none.id, w: withoutHandle }))).toBeUndefined();
    });
  });

  describe('an answer is bound to the purpose its challenge was issued for', () => {
    it('a step-up answer does not answer a login challenge, nor a login answer a step-up; each is counted', async () => {
      const user = await keyUser('wa-purpose');
      const challenge = await loginChallenge(user.userId);
      const stepUpAnswer = user.key.authenticate(await stepUpOptions(user), { origin: ORIGIN });
      expect(errorCode(await t.gql(VERIFY_LOGIN, { id: challenge.id, w: stepUpAnswer }))).toBe('INVALID_CODE');
      expect(await failures(user.userId)).toBe(1);

      const other = await loginChallenge(user.userId);
      const loginAnswer = user.key.authenticate(other.webAuthnOptions, { origin: ORIGIN });
      expect(errorCode(await t.gql(VIEW_CODES, { w: loginAnswer }, user.token))).toBe('INVALID_CODE');
      expect(await failures(user.userId)).toBe(2);
    });

    it('a new step-up replaces the one before; the answer to the old one is refused', async () => {
      const user = await keyUser('wa-replace');
      const first = await stepUpOptions(user);
      const second = await stepUpOptions(user);
      const stale = user.key.authenticate(first, { origin: ORIGIN });
      expect(errorCode(await t.gql(VIEW_CODES, { w: stale }, user.token))).toBe('INVALID_CODE');
      const fresh = user.key.authenticate(second, { origin: ORIGIN });
      expect(errorCode(await t.gql(VIEW_CODES, { w: fresh }, user.token))).toBeUndefined();
    });

    it("another user's key does not answer a user's step-up, even with that user's options", async () => {
      const alice = await keyUser('wa-alice');
      const mallory = await keyUser('wa-mallory');
      const options = await stepUpOptions(alice);
      const answer = mallory.key.authenticate({ ...options, allowCredentials: [] }, { origin: ORIGIN });
      expect(errorCode(await t.gql(VIEW_CODES, { w: answer }, alice.token))).toBe('INVALID_CODE');
      expect(await failures(alice.userId)).toBe(1);
    });

    it("a registration answers only the user's own pending registration", async () => {
      const alice = await keyUser('wa-reg-alice');
      const bob = await t.token(uniqueId('wa-reg-bob'), [], { authTime: t.clock.now() });
      const alicesOptions = (await t.gql(START_REGISTRATION, { c: alice.recoveryCodes[0] }, alice.token)).data
        .startWebAuthnRegistration.options;
      data(await t.gql(START_REGISTRATION, {}, bob), 'bob registering');
      const forAlice = new SoftAuthenticator().register(alicesOptions, { origin: ORIGIN });
      expect(errorCode(await t.gql(CONFIRM_REGISTRATION, { r: forAlice }, bob))).toBe('INVALID_CODE');
      // Alice's own registration still stands.
      expect(errorCode(await t.gql(CONFIRM_REGISTRATION, { r: forAlice }, alice.token))).toBeUndefined();
    });
  });

  describe('every WebAuthn JSON argument is bounded and shaped first', () => {
    const deep = (levels: number): unknown => (levels === 0 ? 'x' : { a: deep(levels - 1) });
    const wide = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i]));
    const JUNK: [string, unknown][] = [
      ['a string', 'a string'],
      ['a number', 42],
      ['a list', [1, 2]],
      ['an empty object', {}],
      ['a short id', { id: 'x', rawId: 'x', type: 'public-key', response: {}, clientExtensionResults: {} }],
      ['padded base64', { id: `${'A'.repeat(22)}==`, rawId: `${'A'.repeat(22)}==`, type: 'public-key', response: {} }],
      [
        'a response that is a string',
        { id: 'A'.repeat(22), rawId: 'A'.repeat(22), type: 'public-key', response: 'no' },
      ],
      ['20 KB', { id: 'A'.repeat(22), padding: 'x'.repeat(20_000) }],
      ['nested 20 deep', deep(20)],
      ['600 keys', wide],
    ];

    it('answers BAD_USER_INPUT at every entry point, counts nothing and changes nothing', async () => {
      const user = await keyUser('wa-junk');
      await addTotp(user); // so that removeTotp reads its answer (without a number, removeSms is NOT_ENROLLED first)
      const phone = `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`;
      await t.gql(START_REGISTRATION, { c: user.recoveryCodes[0] }, user.token); // a pending registration to confirm
      const challenge = await loginChallenge(user.userId);
      const entryPoints: [string, string, (junk: unknown) => Record<string, unknown>, string | undefined][] = [
        ['verifyLoginChallenge', VERIFY_LOGIN, (w) => ({ id: challenge.id, w }), undefined],
        ['viewRecoveryCodes', VIEW_CODES, (w) => ({ w }), user.token],
        [
          'regenerateRecoveryCodes',
          'mutation($w: JSON) { regenerateRecoveryCodes(webAuthn: $w) { generatedAt } }',
          (w) => ({ w }),
          user.token,
        ],
        [
          'startTotpSetup',
          'mutation($w: JSON) { startTotpSetup(webAuthn: $w) { secret } }',
          (w) => ({ w }),
          user.token,
        ],
        [
          'startSmsSetup',
          'mutation($p: String!, $w: JSON) { startSmsSetup(phoneNumber: $p, webAuthn: $w) { phoneNumberMasked } }',
          (w) => ({ p: phone, w }),
          user.token,
        ],
        ['startWebAuthnRegistration', START_REGISTRATION, (w) => ({ w }), user.token],
        [
          'confirmWebAuthnRegistration',
          'mutation($w: JSON!) { confirmWebAuthnRegistration(response: $w) { recoveryCodes } }',
          (w) => ({ w }),
          user.token,
        ],
        [
          'removeWebAuthnCredential',
          'mutation($id: ID!, $w: JSON) { removeWebAuthnCredential(id: $id, webAuthn: $w) { enabled } }',
          (w) => ({ id: user.credentialId, w }),
          user.token,
        ],
        ['removeTotp', 'mutation($w: JSON) { removeTotp(webAuthn: $w) { enabled } }', (w) => ({ w }), user.token],
        [
          'disableTwoFactor',
          'mutation($w: JSON) { disableTwoFactor(webAuthn: $w) { enabled } }',
          (w) => ({ w }),
          user.token,
        ],
      ];
      const before = await status(user.userId);
      const problems: string[] = [];
      for (const [operation, document, variables, token] of entryPoints) {
        for (const [name, junk] of JUNK) {
          const result = await t.gql(document, variables(junk), token);
          if (result.status >= 500 || errorCode(result) !== 'BAD_USER_INPUT') {
            problems.push(`${operation} with ${name}: ${result.status} ${JSON.stringify(result.errors)}`);
          }
        }
      }
      expect(problems).toEqual([]);
      expect(await failures(user.userId)).toBe(0);
      expect(await status(user.userId)).toBe(before);
      // More junk than the per-user limit allows failures (10), yet the key still answers: none was counted.
      const answer = user.key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
      expect(errorCode(await t.gql(VERIFY_LOGIN, { id: challenge.id, w: answer }))).toBeUndefined();
    });

    it('refuses a code and a WebAuthn response together, and neither, where an answer is required', async () => {
      const user = await keyUser('wa-both');
      const answer = user.key.authenticate(await stepUpOptions(user), { origin: ORIGIN });
      expect(errorCode(await t.gql(VIEW_CODES, { c: user.recoveryCodes[0], w: answer }, user.token))).toBe(
        'BAD_USER_INPUT',
      );
      expect(errorCode(await t.gql(VIEW_CODES, {}, user.token))).toBe('BAD_USER_INPUT');
      expect(await failures(user.userId)).toBe(0);
    });

    it('bounds the names of keys: plain text, 1 to 64 characters', async () => {
      const user = await keyUser('wa-names');
      const RENAME = 'mutation($id: ID!, $n: String!) { renameWebAuthnCredential(id: $id, name: $n) { name } }';
      for (const name of [
        '',
        ' ',
        'x'.repeat(65),
        'Key\u202egnp.exe',
        'a\u0000b',
        'zero\u200bwidth',
        // Issue 21, finding 9: nothing visible, or blank characters that let one name look like another.
        '\u3164',
        '\u2800\u2800',
        '\u0301',
        'Key\u115f',
        'Key\ufe0f',
      ]) {
        expect([name, errorCode(await t.gql(RENAME, { id: user.credentialId, n: name }, user.token))]).toEqual([
          name,
          'BAD_USER_INPUT',
        ]);
      }
      expect(
        (await t.gql(RENAME, { id: user.credentialId, n: '  Büro-Schlüssel  ' }, user.token)).data
          ?.renameWebAuthnCredential.name,
      ).toBe('Büro-Schlüssel');
    });
  });

  describe('the phishing-resistant policy, end to end', () => {
    const ACCESS =
      'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason graceEndsAt } }';
    /** Asked for a session signed in with a key, as the login service passes its amr. */
    const access = async (organizationId: string, userId: string) =>
      data(
        await t.gql(
          ACCESS,
          { o: organizationId, u: userId, s: ['pwd', 'hwk'] },
          await t.token('reader', ['twofactor:read']),
        ),
        'access',
      ).organizationAccess;

    it('lets in members signed in with a key only; a member cannot remove its last key while it is required, even with TOTP', async () => {
      const owner = await keyUser('wa-pr-owner');
      const member = await keyUser('wa-pr-member');
      const totp = await addTotp(member);
      const totpOnly = await enrollTotp(t, uniqueId('wa-pr-totp'));
      const org = uniqueId('org');
      await syncOrganization(t, org, {
        [owner.userId]: 'OWNER',
        [member.userId]: 'MEMBER',
        [totpOnly.userId]: 'MEMBER',
      });

      const required = await t.gql(
        'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o) { requiresPhishingResistantTwoFactor } }',
        { o: org },
        owner.token,
      );
      expect(data(required, 'require').requirePhishingResistantTwoFactor.requiresPhishingResistantTwoFactor).toBe(true);
      expect(await access(org, owner.userId)).toEqual({ allowed: true, reason: 'OK', graceEndsAt: null });
      expect(await access(org, member.userId)).toEqual({ allowed: true, reason: 'OK', graceEndsAt: null });
      expect(await access(org, totpOnly.userId)).toEqual({
        allowed: false,
        reason: 'PHISHING_RESISTANT_REQUIRED',
        graceEndsAt: null,
      });

      const REMOVE =
        'mutation($id: ID!, $c: String, $w: JSON) { removeWebAuthnCredential(id: $id, code: $c, webAuthn: $w) { methods } }';
      // TOTP gives no step-up while a key is required (a phishing proxy could relay it) ...
      const removed = await t.gql(REMOVE, { id: member.credentialId, c: currentTotp(t, totp) }, member.token);
      expect(errorCode(removed)).toBe('PHISHING_RESISTANT_ANSWER_REQUIRED');
      expect(removed.errors![0].extensions!.organizationIds).toEqual([org]);
      // ... and the key itself may not remove the last key.
      const withKey = await t.gql(
        REMOVE,
        { id: member.credentialId, w: member.key.authenticate(await stepUpOptions(member), { origin: ORIGIN }) },
        member.token,
      );
      expect(errorCode(withKey)).toBe('TWO_FACTOR_REQUIRED_BY_ORGANIZATION');
      expect(withKey.errors![0].extensions!.organizationIds).toEqual([org]);
      expect(JSON.parse(await status(member.userId)).data.user.twoFactor.methods).toEqual(['TOTP', 'WEBAUTHN']);

      // The member with TOTP only registers a key: let in at once, and counted.
      const start = data(
        await t.gql(START_REGISTRATION, { c: totpOnly.recoveryCodes[0] }, totpOnly.token),
        'registering',
      );
      data(
        await t.gql(
          CONFIRM_REGISTRATION,
          { r: new SoftAuthenticator().register(start.startWebAuthnRegistration.options, { origin: ORIGIN }) },
          totpOnly.token,
        ),
        'confirming',
      );
      expect(await access(org, totpOnly.userId)).toEqual({ allowed: true, reason: 'OK', graceEndsAt: null });
      const compliance = data(
        await t.gql(
          'query($id: ID!) { organization(id: $id) { compliance { membersWithPhishingResistant ownersWithoutPhishingResistant compliant } } }',
          { id: org },
          owner.token,
        ),
        'compliance',
      ).organization.compliance;
      expect(compliance).toEqual({
        membersWithPhishingResistant: 3,
        ownersWithoutPhishingResistant: 0,
        compliant: true,
      });
    });
  });
});
