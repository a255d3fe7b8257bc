import { decodeJwt } from 'jose';
import { SoftAuthenticator } from '../../support/soft-authenticator';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../../support/two-factor';

const ORIGIN = 'http://localhost:5173';
const START_REGISTRATION =
  'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { options expiresAt } }';
const CONFIRM_REGISTRATION =
  'mutation($r: JSON!, $n: String) { confirmWebAuthnRegistration(response: $r, name: $n) { recoveryCodes status { enabled methods phishingResistant webAuthnCredentials { id name synced transports lastUsedAt } } } }';
const START_LOGIN = 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id methods webAuthnOptions } }';
const VERIFY_LOGIN =
  'mutation($id: ID!, $c: String, $w: JSON) { verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w) { method assertion } }';
const START_STEP_UP = 'mutation { startWebAuthnStepUp { options expiresAt } }';
const VIEW_CODES = 'mutation($c: String, $w: JSON) { viewRecoveryCodes(code: $c, webAuthn: $w) { codes { code } } }';

describe('security keys and passkeys (WebAuthn)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: ORIGIN } });
  });
  afterAll(() => t.close());

  async function register(userId: string, key = new SoftAuthenticator(), stepUp: { c?: string; w?: unknown } = {}) {
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    const start = await t.gql(START_REGISTRATION, stepUp, token);
    if (start.errors) throw new Error(JSON.stringify(start.errors));
    const response = key.register(start.data.startWebAuthnRegistration.options, { origin: ORIGIN });
    const confirm = await t.gql(CONFIRM_REGISTRATION, { r: response, n: 'YubiKey 5' }, token);
    return { token, key, confirm };
  }

  async function loginOptions(userId: string) {
    const token = await t.token('login-service', ['twofactor:login']);
    const challenge = await t.gql(START_LOGIN, { u: userId }, token);
    return challenge.data.startLoginChallenge as { id: string; methods: string[]; webAuthnOptions: any };
  }

  const failures = async (userId: string) =>
    Number((await t.sql('SELECT failed_attempts_in_row AS n FROM users WHERE id = ?', [userId]))[0].n);

  it('registers a first key: two-factor turns on, with recovery codes, and the key is listed', async () => {
    const userId = uniqueId('wa-first');
    const { confirm } = await register(userId);
    expect(confirm.errors).toBeUndefined();
    const result = confirm.data.confirmWebAuthnRegistration;
    expect(result.recoveryCodes).toHaveLength(10);
    expect(result.status).toMatchObject({ enabled: true, methods: ['WEBAUTHN'], phishingResistant: true });
    expect(result.status.webAuthnCredentials).toEqual([
      expect.objectContaining({ name: 'YubiKey 5', transports: ['usb'], lastUsedAt: null }),
    ]);
  });

  it('offers login options bound to the challenge and signs an assertion with amr hwk (and user when verified)', async () => {
    const userId = uniqueId('wa-login');
    const { key } = await register(userId);
    const challenge = await loginOptions(userId);
    expect(challenge.methods).toEqual(['WEBAUTHN', 'RECOVERY_CODE']);
    expect(challenge.webAuthnOptions.allowCredentials).toEqual([
      expect.objectContaining({ id: key.credentialIds()[0] }),
    ]);
    const answer = key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
    const verified = await t.gql(VERIFY_LOGIN, { id: challenge.id, w: answer });
    expect(verified.errors).toBeUndefined();
    expect(verified.data.verifyLoginChallenge.method).toBe('WEBAUTHN');
    expect(decodeJwt(verified.data.verifyLoginChallenge.assertion)).toMatchObject({
      sub: userId,
      amr: ['hwk', 'user'],
      jti: challenge.id,
    });

    const quiet = await loginOptions(userId);
    const withoutVerification = key.authenticate(quiet.webAuthnOptions, { origin: ORIGIN, userVerified: false });
    const second = await t.gql(VERIFY_LOGIN, { id: quiet.id, w: withoutVerification });
    expect(decodeJwt(second.data.verifyLoginChallenge.assertion).amr).toEqual(['hwk']);
  });

  it('steps up with a key', async () => {
    const userId = uniqueId('wa-stepup');
    const { key, token } = await register(userId);
    const options = (await t.gql(START_STEP_UP, {}, token)).data.startWebAuthnStepUp.options;
    const viewed = await t.gql(VIEW_CODES, { w: key.authenticate(options, { origin: ORIGIN }) }, token);
    expect(viewed.errors).toBeUndefined();
    expect(viewed.data.viewRecoveryCodes.codes).toHaveLength(10);
  });

  it('refuses wrong, replayed and foreign answers as INVALID_CODE, each counted as an attempt', async () => {
    const userId = uniqueId('wa-refuse');
    const { key } = await register(userId);
    const other = await register(uniqueId('wa-other'));
    const stranger = new SoftAuthenticator();
    await register(uniqueId('wa-stranger'), stranger);
    const cases: [string, (options: any) => unknown][] = [
      ['another origin', (options) => key.authenticate(options, { origin: 'http://localhost:6666' })],
      ['another RP id', (options) => key.authenticate(options, { origin: ORIGIN, rpId: 'example.com' })],
      [
        'another challenge',
        (options) =>
          key.authenticate(options, { origin: ORIGIN, challenge: Buffer.alloc(32, 1).toString('base64url') }),
      ],
      ['a tampered signature', (options) => key.authenticate(options, { origin: ORIGIN, tamperSignature: true })],
      [
        'an unknown credential',
        (options) => stranger.authenticate({ ...options, allowCredentials: [] }, { origin: ORIGIN }),
      ],
      [
        'another user’s key',
        (options) => other.key.authenticate({ ...options, allowCredentials: [] }, { origin: ORIGIN }),
      ],
    ];
    for (const [name, answer] of cases) {
      const challenge = await loginOptions(userId);
      const before = await failures(userId);
      const result = await t.gql(VERIFY_LOGIN, { id: challenge.id, w: answer(challenge.webAuthnOptions) });
      expect([name, errorCode(result)]).toEqual([name, 'INVALID_CODE']);
      expect([name, await failures(userId)]).toEqual([name, before + 1]);
    }

    // A right answer works once: replayed, to the same challenge or to a new one, it is refused.
    const challenge = await loginOptions(userId);
    const answer = key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
    expect(errorCode(await t.gql(VERIFY_LOGIN, { id: challenge.id, w: answer }))).toBeUndefined();
    const again = await loginOptions(userId);
    expect(errorCode(await t.gql(VERIFY_LOGIN, { id: again.id, w: answer }))).toBe('INVALID_CODE');
  });

  it('refuses an answer to another user’s challenge', async () => {
    const alice = await register(uniqueId('wa-alice'));
    const bob = await register(uniqueId('wa-bob'));
    const bobsChallenge = await loginOptions(decodeJwt(bob.token).sub as string);
    // Alice's key answering Bob's options (allowCredentials emptied, as a phishing page would): not Bob's credential.
    const answer = alice.key.authenticate(
      { ...bobsChallenge.webAuthnOptions, allowCredentials: [] },
      { origin: ORIGIN },
    );
    expect(errorCode(await t.gql(VERIFY_LOGIN, { id: bobsChallenge.id, w: answer }))).toBe('INVALID_CODE');
  });

  it('refuses a counter that does not grow and audits a possible clone', async () => {
    const userId = uniqueId('wa-clone');
    const { key } = await register(userId);
    const first = await loginOptions(userId);
    await t.gql(VERIFY_LOGIN, {
      id: first.id,
      w: key.authenticate(first.webAuthnOptions, { origin: ORIGIN, counter: 10 }),
    });
    const second = await loginOptions(userId);
    const cloned = await t.gql(VERIFY_LOGIN, {
      id: second.id,
      w: key.authenticate(second.webAuthnOptions, { origin: ORIGIN, counter: 5 }),
    });
    expect(errorCode(cloned)).toBe('INVALID_CODE');
    const audited = await t.sql(
      "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND action = 'WEBAUTHN_CLONE_SUSPECTED'",
      [userId],
    );
    expect(Number(audited[0].n)).toBe(1);

    // Its warning carries the id of the request it was written for (issue 21, finding 11), once.
    const third = await loginOptions(userId);
    const requestId = uniqueId('req-clone');
    await t.gql(
      VERIFY_LOGIN,
      { id: third.id, w: key.authenticate(third.webAuthnOptions, { origin: ORIGIN, counter: 5 }) },
      undefined,
      { 'x-request-id': requestId },
    );
    const warnings = t.logs.filter((line) => line.includes('possibly a cloned authenticator'));
    expect(JSON.parse(warnings.at(-1)!)).toMatchObject({ userId, reqId: requestId });
    expect(warnings.at(-1)!.split('"reqId"')).toHaveLength(2);
  });

  it('refuses malformed and oversized JSON with BAD_USER_INPUT before counting an attempt', async () => {
    const userId = uniqueId('wa-malformed');
    await register(userId);
    const challenge = await loginOptions(userId);
    for (const junk of [
      'a string',
      [1, 2],
      { id: 'x' },
      { id: 'A'.repeat(40), rawId: 'A'.repeat(40), type: 'public-key', response: 'no' },
      { big: 'x'.repeat(20_000) },
    ]) {
      const result = await t.gql(VERIFY_LOGIN, { id: challenge.id, w: junk });
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
    }
    expect(await failures(userId)).toBe(0);
    const both = await t.gql(VERIFY_LOGIN, { id: challenge.id, c: '123456', w: { id: 'x' } });
    expect(errorCode(both)).toBe('BAD_USER_INPUT');
  });

  it('two parallel right answers to one challenge: one success', async () => {
    const userId = uniqueId('wa-race');
    const { key } = await register(userId);
    const challenge = await loginOptions(userId);
    const answer = key.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
    const results = await Promise.all([0, 1, 2, 3].map(() => t.gql(VERIFY_LOGIN, { id: challenge.id, w: answer })));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
  });

  it('the lock (100 failures in a row) refuses TOTP but not a security key', async () => {
    const user = await enrollTotp(t, uniqueId('wa-lock'));
    const key = new SoftAuthenticator();
    const start = await t.gql(START_REGISTRATION, { c: currentTotp(t, user.secret) }, user.token);
    nextStep(t);
    await t.gql(
      CONFIRM_REGISTRATION,
      { r: key.register(start.data.startWebAuthnRegistration.options, { origin: ORIGIN }) },
      user.token,
    );
    await t.sql('UPDATE users SET failed_attempts_in_row = 100 WHERE id = ?', [user.userId]);
    const locked = await loginOptions(user.userId);
    expect(errorCode(await t.gql(VERIFY_LOGIN, { id: locked.id, c: currentTotp(t, user.secret) }))).toBe(
      'TWO_FACTOR_LOCKED',
    );
    const viaKey = await loginOptions(user.userId);
    const verified = await t.gql(VERIFY_LOGIN, {
      id: viaKey.id,
      w: key.authenticate(viaKey.webAuthnOptions, { origin: ORIGIN }),
    });
    expect(verified.errors).toBeUndefined();
  });

  it('renames a key, and removes one behind a step-up; the last one turns two-factor off', async () => {
    const userId = uniqueId('wa-manage');
    const { key, token, confirm } = await register(userId);
    const id = confirm.data.confirmWebAuthnRegistration.status.webAuthnCredentials[0].id;
    const renamed = await t.gql(
      'mutation($id: ID!, $n: String!) { renameWebAuthnCredential(id: $id, name: $n) { name } }',
      { id, n: 'Laptop' },
      token,
    );
    expect(renamed.data.renameWebAuthnCredential.name).toBe('Laptop');
    const bidi = await t.gql(
      'mutation($id: ID!, $n: String!) { renameWebAuthnCredential(id: $id, name: $n) { name } }',
      { id, n: 'a\u202eb' },
      token,
    );
    expect(errorCode(bidi)).toBe('BAD_USER_INPUT');

    const options = (await t.gql(START_STEP_UP, {}, token)).data.startWebAuthnStepUp.options;
    const removed = await t.gql(
      'mutation($id: ID!, $w: JSON) { removeWebAuthnCredential(id: $id, webAuthn: $w) { enabled methods } }',
      { id, w: key.authenticate(options, { origin: ORIGIN }) },
      token,
    );
    expect(removed.errors).toBeUndefined();
    expect(removed.data.removeWebAuthnCredential).toEqual({ enabled: false, methods: [] });
  });

  it('a registration submitted twice at once: one key, the copy NOT_FOUND and not counted as a failure', async () => {
    // Issue 21, finding 11: the copy found its setup gone only after its answer was checked, and counted as wrong.
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const userId = uniqueId('wa-double');
      const token = await t.token(userId, [], { authTime: t.clock.now() });
      const start = await t.gql(START_REGISTRATION, {}, token);
      const response = new SoftAuthenticator().register(start.data.startWebAuthnRegistration.options, {
        origin: ORIGIN,
      });
      const results = await Promise.all(
        [0, 1, 2, 3].map(() => t.gql(CONFIRM_REGISTRATION, { r: response, n: 'Key' }, token)),
      );
      outcomes.push(...results.map((result) => errorCode(result) ?? 'OK'));
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      expect(await failures(userId)).toBe(0);
      const audited = await t.sql(
        "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND action = 'CODE_CHECK_FAILED'",
        [userId],
      );
      expect(Number(audited[0].n)).toBe(0);
    }
    expect(outcomes.filter((outcome) => outcome !== 'OK' && outcome !== 'NOT_FOUND')).toEqual([]);
  });

  it('keeps at most 10 keys a user', async () => {
    const userId = uniqueId('wa-ten');
    const key = new SoftAuthenticator();
    const first = await register(userId, key);
    const codes = first.confirm.data.confirmWebAuthnRegistration.recoveryCodes as string[];
    for (let i = 1; i < 10; i += 1) {
      const start = await t.gql(START_REGISTRATION, { c: codes[i] }, first.token);
      const confirm = await t.gql(
        CONFIRM_REGISTRATION,
        { r: new SoftAuthenticator().register(start.data.startWebAuthnRegistration.options, { origin: ORIGIN }) },
        first.token,
      );
      expect(confirm.errors).toBeUndefined();
    }
    const regenerate = await t.gql(
      'mutation($c: String) { regenerateRecoveryCodes(code: $c) { codes { code } } }',
      { c: codes[0] },
      first.token,
    );
    expect(regenerate.errors).toBeUndefined();
    const fresh = regenerate.data.regenerateRecoveryCodes.codes[0].code;
    expect(errorCode(await t.gql(START_REGISTRATION, { c: fresh }, first.token))).toBe('BAD_USER_INPUT');
  });
});
