import { FactorActions } from '../../src/audit/factor-actions';
import { LIMITS } from '../../src/limits';
import { FACTOR_SIGNALS } from '../../src/modules';
import { ocsfClasses } from '../../src/signals/ocsf/ocsf-mapping';

const OCSF_CLASS_OF = ocsfClasses(new FactorActions(FACTOR_SIGNALS));
import { AttestingAuthenticator } from '../support/attesting-authenticator';
import { eventually } from '../support/eventually';
import { FakeSns } from '../support/fake-sns';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { totpCodeAt, totpCodeForStep, totpStepAt } from '../support/totp';
import { uniqueMobileNumber } from '../support/two-factor';
import { PRIVATE_WEBHOOKS, WebhookReceiver, createEndpoint, deliveriesOf } from '../support/webhook-receiver';
import { ocsfProblems } from './ocsf/ocsf-validator';

/**
 * Every audited action, caused through the API as callers cause it, then read
 * back from GET /audit/ocsf: each record valid OCSF 1.7.0, every action met, and
 * no record holding a code, secret, token or whole phone number that the run
 * used (they are all gathered while it runs).
 */

const ORIGIN = 'http://localhost:5173';
const PHONE = uniqueMobileNumber();

describe('OCSF records of every audited action, caused through the API', () => {
  const sns = new FakeSns();
  let receiver: WebhookReceiver;
  let t: TestApp;
  /** Everything a record must never hold: codes, secrets, tokens, the phone number. */
  const secrets = new Set<string>();
  const codes = new Set<string>();
  let body = '';
  let records: any[] = [];

  const keep = <T extends string>(value: T): T => (secrets.add(value), value);
  const keepCode = (value: string) => (codes.add(value), value);
  const token = async (subject: string, scopes: string[] = []) =>
    keep(await t.token(subject, scopes, { authTime: t.clock.now() }));

  /** A GraphQL call that must succeed; its data. */
  async function ok(query: string, variables: Record<string, unknown>, bearer?: string): Promise<any> {
    const result = await t.gql(query, variables, bearer);
    if (result.errors) throw new Error(`${query}: ${JSON.stringify(result.errors)}`);
    return result.data;
  }
  /** A GraphQL call that must be refused with `code`. */
  async function refused(code: string, query: string, variables: Record<string, unknown>, bearer?: string) {
    const result = await t.gql(query, variables, bearer);
    expect(result.errors?.[0]?.extensions?.code).toBe(code);
  }

  /** A fresh TOTP code (the clock moves a step first: each code is taken once). */
  function totp(secret: string): string {
    t.clock.advance(30_000);
    return keepCode(totpCodeAt(secret, t.clock.now()));
  }

  async function enrollTotp(userId: string) {
    const bearer = await token(userId);
    const { startTotpSetup } = await ok('mutation { startTotpSetup { secret otpauthUri } }', {}, bearer);
    keep(startTotpSetup.secret);
    keep(startTotpSetup.otpauthUri);
    const { confirmTotpSetup } = await ok(
      'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
      { c: totp(startTotpSetup.secret) },
      bearer,
    );
    for (const code of confirmTotpSetup.recoveryCodes) keep(code);
    return {
      bearer,
      secret: startTotpSetup.secret as string,
      recoveryCodes: confirmTotpSetup.recoveryCodes as string[],
    };
  }

  const START_LOGIN =
    'mutation($u: ID!, $d: String) { startLoginChallenge(userId: $u, deviceToken: $d) { id assertion webAuthnOptions } }';
  const VERIFY_LOGIN =
    'mutation($id: ID!, $c: String, $w: JSON, $r: Boolean, $n: String) { verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w, rememberDevice: $r, deviceName: $n) { assertion deviceToken } }';

  async function startLogin(userId: string, deviceToken?: string) {
    const { startLoginChallenge } = await ok(
      START_LOGIN,
      { u: userId, d: deviceToken ?? null },
      await token('login-service', ['twofactor:login']),
    );
    keep(startLoginChallenge.id);
    if (startLoginChallenge.assertion) keep(startLoginChallenge.assertion);
    return startLoginChallenge;
  }
  async function verifyLogin(variables: Record<string, unknown>) {
    const { verifyLoginChallenge } = await ok(VERIFY_LOGIN, variables);
    keep(verifyLoginChallenge.assertion);
    if (verifyLoginChallenge.deviceToken) keep(verifyLoginChallenge.deviceToken);
    return verifyLoginChallenge;
  }

  beforeAll(async () => {
    await sns.start();
    receiver = await WebhookReceiver.start(() => 410);
    t = await startTestApp({
      env: {
        ...PRIVATE_WEBHOOKS,
        SMS_PROVIDER: 'sns',
        SNS_ENDPOINT: sns.url,
        WEBAUTHN_RP_ID: 'localhost',
        WEBAUTHN_ORIGINS: ORIGIN,
      },
    });
    keep(PHONE);
    keep(PHONE.slice(1));
    keep(PHONE.slice(2));

    // Webhooks: the receiver answers 410 Gone, which disables the endpoint.
    const endpoint = await createEndpoint(t, receiver.url);
    keep(endpoint.secret);
    keep(endpoint.admin);

    // alice: TOTP, logins, trusted devices, recovery codes, SMS, a security key, an organization.
    const alice = uniqueId('alice');
    const a = await enrollTotp(alice);
    const login = await startLogin(alice);
    await refused('INVALID_CODE', VERIFY_LOGIN, { id: login.id, c: keepCode(wrongCode(a.secret)) });
    await verifyLogin({ id: login.id, c: totp(a.secret) });
    const remembered = await verifyLogin({
      id: (await startLogin(alice)).id,
      c: totp(a.secret),
      r: true,
      n: 'Firefox on Linux',
    });
    expect((await startLogin(alice, remembered.deviceToken)).assertion).toEqual(expect.any(String));
    const { me } = await ok('{ me { twoFactor { trustedDevices { id } } } }', {}, a.bearer);
    expect(
      await ok(
        'mutation($id: ID!) { revokeTrustedDevice(id: $id) }',
        { id: me.twoFactor.trustedDevices[0].id },
        a.bearer,
      ),
    ).toEqual({
      revokeTrustedDevice: true,
    });
    await verifyLogin({ id: (await startLogin(alice)).id, c: totp(a.secret), r: true, n: 'Safari on macOS' });
    await ok('mutation { revokeAllTrustedDevices }', {}, a.bearer);

    const viewed = await ok(
      'mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code } } }',
      { c: totp(a.secret) },
      a.bearer,
    );
    for (const { code } of viewed.viewRecoveryCodes.codes) keep(code);
    await refused(
      'INVALID_CODE',
      'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }',
      {
        c: keepCode(wrongCode(a.secret)),
      },
      a.bearer,
    );
    const regenerated = await ok(
      'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { codes { code } } }',
      { c: totp(a.secret) },
      a.bearer,
    );
    const recoveryCodes: string[] = regenerated.regenerateRecoveryCodes.codes.map((entry: any) => keep(entry.code));
    await verifyLogin({ id: (await startLogin(alice)).id, c: recoveryCodes[0] });

    await ok(
      'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked } }',
      { p: PHONE, c: totp(a.secret) },
      a.bearer,
    );
    await ok(
      'mutation($c: String!) { confirmSmsSetup(code: $c) { status { enabled } } }',
      { c: keepCode(sns.lastCodeTo(PHONE)) },
      a.bearer,
    );
    await ok('mutation { sendSmsCode { phoneNumberMasked } }', {}, a.bearer);
    keepCode(sns.lastCodeTo(PHONE));
    const smsLogin = await startLogin(alice);
    await ok('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', { id: smsLogin.id });
    await verifyLogin({ id: smsLogin.id, c: keepCode(sns.lastCodeTo(PHONE)) });

    const key = new SoftAuthenticator();
    const registration = await ok(
      'mutation($c: String) { startWebAuthnRegistration(code: $c) { options } }',
      { c: totp(a.secret) },
      a.bearer,
    );
    const confirmed = await ok(
      'mutation($r: JSON!, $n: String) { confirmWebAuthnRegistration(response: $r, name: $n) { status { webAuthnCredentials { id } } } }',
      { r: key.register(registration.startWebAuthnRegistration.options, { origin: ORIGIN }), n: 'YubiKey 5' },
      a.bearer,
    );
    const credentialId = confirmed.confirmWebAuthnRegistration.status.webAuthnCredentials[0].id;
    await ok(
      'mutation($id: ID!, $n: String!) { renameWebAuthnCredential(id: $id, name: $n) { name } }',
      {
        id: credentialId,
        n: 'Backup key',
      },
      a.bearer,
    );

    const org = uniqueId('org');
    const erin = uniqueId('erin');
    const directory = await token('directory-sync', ['twofactor:directory']);
    await ok(
      'mutation($id: ID!, $n: String!) { upsertOrganization(id: $id, name: $n) { id } }',
      { id: org, n: 'Acme' },
      directory,
    );
    for (const [userId, role] of [
      [alice, 'OWNER'],
      [erin, 'MEMBER'],
    ]) {
      await ok(
        'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }',
        { o: org, u: userId, r: role },
        directory,
      );
    }
    const policy = (mutation: string, variables: Record<string, unknown> = {}) =>
      ok(mutation, { o: org, ...variables }, a.bearer);
    await policy('mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }');
    await policy('mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 3) { id } }');
    await policy('mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o) { id } }');
    await policy('mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }');
    await policy('mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }');
    await policy(
      'mutation($o: ID!, $a: Boolean!) { setTrustedDevicesAllowed(organizationId: $o, allowed: $a) { id } }',
      { a: false },
    );
    await policy(
      'mutation($o: ID!, $a: Boolean!) { setTrustedDevicesAllowed(organizationId: $o, allowed: $a) { id } }',
      { a: true },
    );
    await policy(
      'mutation($o: ID!, $a: Boolean!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: $a) { id } }',
      { a: true },
    );
    await policy(
      'mutation($o: ID!, $a: Boolean!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: $a) { id } }',
      { a: false },
    );
    // An authenticator policy (device-bound keys only), set by the owner of another organization whose key is device-bound.
    const keeper = uniqueId('keeper');
    const keeperBearer = await token(keeper);
    const boundKey = new AttestingAuthenticator(null, { attestation: 'none', deviceBound: true });
    const keeperStart = await ok('mutation { startWebAuthnRegistration { options } }', {}, keeperBearer);
    await ok(
      'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r) { status { enabled } } }',
      { r: await boundKey.register(keeperStart.startWebAuthnRegistration.options, { origin: ORIGIN }) },
      keeperBearer,
    );
    const keeperOrg = uniqueId('keeper-org');
    await ok(
      'mutation($id: ID!) { upsertOrganization(id: $id, name: "Keepers") { id } }',
      { id: keeperOrg },
      directory,
    );
    await ok(
      'mutation($o: ID!, $u: ID!) { setMembership(organizationId: $o, userId: $u, role: OWNER) { role } }',
      { o: keeperOrg, u: keeper },
      directory,
    );
    await ok(
      'mutation($o: ID!) { setAuthenticatorPolicy(organizationId: $o, allowedAaguids: [], requireDeviceBound: true) { id } }',
      { o: keeperOrg },
      keeperBearer,
    );
    // A 1-day grace period (its 1-day reminder is due at once); erin exempted, the exemption ended, granted again.
    await policy('mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 1) { id } }');
    const exempt = (hours: number) =>
      policy(
        'mutation($o: ID!, $u: ID!, $t: DateTimeISO!) { exemptFromTwoFactor(organizationId: $o, userId: $u, until: $t, reason: "On leave") { endsAt } }',
        { u: erin, t: new Date(t.clock.now().getTime() + hours * 3600_000).toISOString() },
      );
    await exempt(2);
    await policy('mutation($o: ID!, $u: ID!) { endTwoFactorExemption(organizationId: $o, userId: $u) }', { u: erin });
    await exempt(1);
    // A day later the exemption has run out and the grace period ended: the background job says so.
    t.clock.advance(24 * 3600_000);
    await t.app.runBackgroundJobs();
    await ok(
      'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }',
      { o: org, u: erin },
      directory,
    );
    await ok('mutation($id: ID!) { deleteOrganization(id: $id) }', { id: org }, directory);
    await ok('mutation($u: ID!) { deleteUser(userId: $u) }', { u: erin }, directory);

    // A counter that goes back: a cloned key is suspected.
    const first = await startLogin(alice);
    await verifyLogin({ id: first.id, w: key.authenticate(first.webAuthnOptions, { origin: ORIGIN, counter: 10 }) });
    const second = await startLogin(alice);
    await refused('INVALID_CODE', VERIFY_LOGIN, {
      id: second.id,
      w: key.authenticate(second.webAuthnOptions, { origin: ORIGIN, counter: 5 }),
    });

    await ok(
      'mutation($id: ID!, $c: String) { removeWebAuthnCredential(id: $id, code: $c) { enabled } }',
      {
        id: credentialId,
        c: totp(a.secret),
      },
      a.bearer,
    );
    await ok('mutation($c: String) { removeSms(code: $c) { enabled } }', { c: totp(a.secret) }, a.bearer);
    await ok('mutation($c: String) { removeTotp(code: $c) { enabled } }', { c: totp(a.secret) }, a.bearer);

    // bob turns two-factor off; carol's is reset by an admin; dave's locks.
    const bob = uniqueId('bob');
    const b = await enrollTotp(bob);
    await ok('mutation($c: String) { disableTwoFactor(code: $c) { enabled } }', { c: totp(b.secret) }, b.bearer);
    const carol = uniqueId('carol');
    await enrollTotp(carol);
    await ok(
      'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }',
      { u: carol, r: 'Lost phone, verified by ticket 4711' },
      await token('support-agent', ['twofactor:admin']),
    );
    const dave = uniqueId('dave');
    const d = await enrollTotp(dave);
    for (let failures = 0; failures < LIMITS.failuresInRowToLock; failures += 1) {
      // Past the window's failures the answer is RATE_LIMITED and uncounted: the window moves on.
      if (failures > 0 && failures % LIMITS.userFailuresPerWindow === 0) {
        t.clock.advance(LIMITS.userFailureWindowSeconds * 1000 + 1000);
      }
      await refused(
        'INVALID_CODE',
        'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }',
        {
          c: keepCode(wrongCode(d.secret)),
        },
        d.bearer,
      );
    }

    // frank's authenticator row gets dave's secret (a write to the database): refused when read, audited.
    const frank = uniqueId('frank');
    const f = await enrollTotp(frank);
    await t.sql(
      'UPDATE totp_factors SET secret_ciphertext = (SELECT c FROM (SELECT secret_ciphertext AS c FROM totp_factors WHERE user_id = ?) m) WHERE user_id = ?',
      [dave, frank],
    );
    await refused(
      'INVALID_CODE',
      'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }',
      { c: totp(f.secret) },
      f.bearer,
    );
    await eventually(
      async () => (await t.sql("SELECT id FROM audit_events WHERE action = 'CIPHERTEXT_REFUSED'")).length > 0,
    );

    // The endpoint, disabled by the 410, enabled again; its failed delivery retried, its secret rotated, then deleted.
    await eventually(async () => (await deliveriesOf(t, endpoint.id, endpoint.admin, 'FAILED')).length > 0);
    receiver.respond = () => 200;
    await ok(
      'mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: true) { enabled } }',
      { id: endpoint.id },
      endpoint.admin,
    );
    const [failed] = await deliveriesOf(t, endpoint.id, endpoint.admin, 'FAILED');
    await ok('mutation($id: ID!) { retryWebhookDelivery(id: $id) { state } }', { id: failed.id }, endpoint.admin);
    const rotated = await ok(
      'mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }',
      { id: endpoint.id },
      endpoint.admin,
    );
    keep(rotated.rotateWebhookSecret.secret);
    await ok('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: endpoint.id }, endpoint.admin);

    // Every record, page by page, as a SIEM reads them.
    const reader = await token('siem', ['twofactor:read']);
    let query = '?limit=50';
    for (let pages = 0; pages < 100; pages += 1) {
      const response = await fetch(`${t.url}/audit/ocsf${query}`, { headers: { authorization: `Bearer ${reader}` } });
      expect(response.status).toBe(200);
      const text = await response.text();
      if (text === '') break;
      body += text;
      query = /^<\/audit\/ocsf(\?[^>]*)>; rel="next"$/.exec(response.headers.get('link')!)![1];
    }
    records = body
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await sns.stop();
  });

  /** A 6-digit code that is not one the authenticator takes now (nor one step either side). */
  function wrongCode(secret: string): string {
    const step = totpStepAt(t.clock.now());
    const taken = new Set([-1, 0, 1].map((offset) => totpCodeForStep(secret, step + offset)));
    for (let n = 0; ; n += 1) {
      const code = String((123_456 + n * 7919) % 1_000_000).padStart(6, '0');
      if (!taken.has(code)) return code;
    }
  }

  it('caused every audit action there is, each record of them valid OCSF 1.7.0', () => {
    expect([...new Set(records.map((record) => record.metadata.event_code))].sort()).toEqual(
      Object.keys(OCSF_CLASS_OF).sort(),
    );
    expect(records.length).toBeGreaterThan(100);
    for (const record of records) {
      const problems = ocsfProblems(record);
      if (problems.length > 0) throw new Error(`${JSON.stringify(record)}:\n${problems.join('\n')}`);
      expect(record.class_uid).toBe(OCSF_CLASS_OF[record.metadata.event_code as keyof typeof OCSF_CLASS_OF]);
    }
  });

  it('holds no code, secret, token or whole phone number the run used', () => {
    expect(secrets.size).toBeGreaterThan(30);
    expect(codes.size).toBeGreaterThan(15);
    const leaked = [...secrets].filter((secret) => body.includes(secret));
    expect(leaked).toEqual([]);
    const leakedCodes = [...codes].filter((code) => new RegExp(`(^|\\D)${code}(\\D|$)`).test(body));
    expect(leakedCodes).toEqual([]);
  });
});
