import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { decodeJwt, jwtVerify } from 'jose';
import { LIMITS } from '../../src/limits';
import { syncOrganization } from '../support/directory';
import { FakeSns } from '../support/fake-sns';
import { REDIS_URL } from '../support/services';
import { ASSERTION_SECRET, errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { loginRemembering, startLogin, VERIFY_REMEMBERING } from '../support/trusted-devices';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const DAY_MS = 24 * 60 * 60 * 1000;
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method } }';
const DEVICES = '{ me { twoFactor { trustedDevices { id name createdAt lastUsedAt expiresAt } } } }';
const REVOKE = 'mutation($id: ID!) { revokeTrustedDevice(id: $id) }';
const REVOKE_ALL = 'mutation { revokeAllTrustedDevices }';
const SET_ALLOWED =
  'mutation($o: ID!, $a: Boolean!) { setTrustedDevicesAllowed(organizationId: $o, allowed: $a) { id allowsTrustedDevices } }';

describe('trusted devices ("remember this browser")', () => {
  const sns = new FakeSns();
  const prefix = `tf:td:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  let t: TestApp;
  let loginService: string;

  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ storeKeyPrefix: prefix, env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url } });
    loginService = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
    redis.disconnect();
  });

  /** A user with TOTP and a remembered browser. */
  async function userWithDevice(prefixOf = 'td') {
    const user = await enrollTotp(t, uniqueId(prefixOf));
    const remembered = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret));
    nextStep(t);
    return { ...user, deviceToken: remembered.deviceToken!, expiresAt: remembered.deviceTokenExpiresAt! };
  }

  async function assertionClaims(assertion: string) {
    const { payload } = await jwtVerify(assertion, new TextEncoder().encode(ASSERTION_SECRET), {
      issuer: 'twofactor',
      audience: 'login',
      algorithms: ['HS256'],
      currentDate: t.clock.now(),
    });
    return payload;
  }

  /** An ordinary challenge: no assertion, and the user's code still answers it. */
  async function expectOrdinary(user: { userId: string; secret: string }, deviceToken: string | null) {
    const challenge = await startLogin(t, loginService, user.userId, deviceToken);
    expect(challenge.assertion).toBeNull();
    expect(challenge.methods).toContain('TOTP');
    const verified = await t.gql(VERIFY, { id: challenge.id, c: currentTotp(t, user.secret) });
    expect(verified.errors).toBeUndefined();
    nextStep(t);
    return challenge;
  }

  const events = async (userId: string, like = 'TRUSTED_DEVICE%') =>
    (
      await t.sql('SELECT action, reason FROM audit_events WHERE user_id = ? AND action LIKE ? ORDER BY id', [
        userId,
        like,
      ])
    ).map((row) => `${row.action}${row.reason ? `: ${row.reason}` : ''}`);

  it('remembers a browser: a 256-bit token, shown once, valid TRUSTED_DEVICE_DAYS (30) from now', async () => {
    const user = await enrollTotp(t, uniqueId('td'));
    const now = t.clock.now().getTime();
    const result = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret));
    expect(result.deviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(result.deviceToken!, 'base64url')).toHaveLength(32);
    expect(new Date(result.deviceTokenExpiresAt!).getTime() - now).toBe(LIMITS.trustedDeviceDays * DAY_MS);
    const [row] = await t.sql('SELECT token_hash, name, expires_at FROM trusted_devices WHERE user_id = ?', [
      user.userId,
    ]);
    expect(row.token_hash).not.toContain(result.deviceToken);
    expect(row.name).toBe('Firefox on Linux');
    expect(await events(user.userId)).toEqual(['TRUSTED_DEVICE_ADDED: Firefox on Linux']);
  });

  it('gives no token when not asked', async () => {
    const user = await enrollTotp(t, uniqueId('td'));
    const challenge = await startLogin(t, loginService, user.userId);
    const result = await t.gql(VERIFY_REMEMBERING, { id: challenge.id, c: currentTotp(t, user.secret) });
    expect(result.data.verifyLoginChallenge).toMatchObject({ deviceToken: null, deviceTokenExpiresAt: null });
    expect(await t.sql('SELECT id FROM trusted_devices WHERE user_id = ?', [user.userId])).toEqual([]);
  });

  it('with the token, the challenge comes back spent with an assertion (amr ["device"], jti the challenge id)', async () => {
    const user = await userWithDevice();
    t.clock.advance(60_000);
    const challenge = await startLogin(t, loginService, user.userId, user.deviceToken);
    expect(challenge.assertion).toEqual(expect.any(String));
    const claims = await assertionClaims(challenge.assertion!);
    expect(claims).toMatchObject({ sub: user.userId, amr: ['device'], jti: challenge.id });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(LIMITS.assertionTtlSeconds);
    expect(challenge.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(new Date(challenge.expiresAt).getTime() - t.clock.now().getTime()).toBe(LIMITS.challengeTtlSeconds * 1000);
    // Already spent: nothing answers it, and no SMS or WebAuthn options are given for it.
    expect(errorCode(await t.gql(VERIFY, { id: challenge.id, c: currentTotp(t, user.secret) }))).toBe(
      'CHALLENGE_NOT_FOUND',
    );
    expect(
      errorCode(
        await t.gql('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', {
          id: challenge.id,
        }),
      ),
    ).toBe('CHALLENGE_NOT_FOUND');
    const devices = (await t.gql(DEVICES, {}, user.token)).data.me.twoFactor.trustedDevices;
    expect(devices).toHaveLength(1);
    expect(devices[0].lastUsedAt).toBe(t.clock.now().toISOString());
    expect(await events(user.userId)).toEqual([
      'TRUSTED_DEVICE_ADDED: Firefox on Linux',
      'TRUSTED_DEVICE_USED: Firefox on Linux',
    ]);
    // The token keeps working until it expires (no sliding, no single use).
    expect((await startLogin(t, loginService, user.userId, user.deviceToken)).assertion).not.toBeNull();
  });

  it("ignores another user's token, garbage and oversized tokens: each an ordinary challenge", async () => {
    const alice = await userWithDevice('alice');
    const bob = await userWithDevice('bob');
    const ordinary = await expectOrdinary(alice, bob.deviceToken);
    for (const token of [
      '',
      'garbage',
      'A'.repeat(43),
      `${alice.deviceToken.slice(0, 42)}!`,
      `${alice.deviceToken} `,
      alice.deviceToken.toUpperCase(),
      'A'.repeat(129),
      alice.deviceToken.repeat(1000),
      '🙂'.repeat(22),
    ]) {
      const challenge = await startLogin(t, loginService, alice.userId, token);
      // The same answer as with no token at all: nothing tells why.
      expect({ ...challenge, id: 'x', expiresAt: 'x' }).toEqual({ ...ordinary, id: 'x', expiresAt: 'x' });
    }
    expect(await events(alice.userId, 'TRUSTED_DEVICE_USED')).toEqual([]);
    // Bob's token still works for Bob.
    expect((await startLogin(t, loginService, bob.userId, bob.deviceToken)).assertion).not.toBeNull();
  });

  it('ignores an expired token (fixed expiry: use does not extend it), and lists only unexpired devices', async () => {
    const user = await userWithDevice();
    t.clock.advance(LIMITS.trustedDeviceDays * DAY_MS - 60_000);
    expect((await startLogin(t, loginService, user.userId, user.deviceToken)).assertion).not.toBeNull();
    t.clock.advance(60_000);
    await expectOrdinary(user, user.deviceToken);
    expect((await t.gql(DEVICES, {}, user.token)).data.me.twoFactor.trustedDevices).toEqual([]);
  });

  it('the user revokes one device or all; a revoked token is ignored', async () => {
    const user = await userWithDevice();
    const second = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret), 'Phone');
    nextStep(t);
    const third = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret), 'Tablet');
    nextStep(t);
    const listed = (await t.gql(DEVICES, {}, user.token)).data.me.twoFactor.trustedDevices;
    expect(listed.map((device: { name: string }) => device.name)).toEqual(['Tablet', 'Phone', 'Firefox on Linux']);

    // Another user cannot revoke it, and learns nothing: false, as for an unknown id.
    const stranger = await t.token(uniqueId('stranger'));
    expect((await t.gql(REVOKE, { id: listed[1].id }, stranger)).data.revokeTrustedDevice).toBe(false);
    expect((await t.gql(REVOKE, { id: 'x'.repeat(500) }, user.token)).data.revokeTrustedDevice).toBe(false);
    expect(errorCode(await t.gql(REVOKE, { id: listed[1].id }))).toBe('UNAUTHENTICATED');

    expect((await t.gql(REVOKE, { id: listed[1].id }, user.token)).data.revokeTrustedDevice).toBe(true);
    expect((await t.gql(REVOKE, { id: listed[1].id }, user.token)).data.revokeTrustedDevice).toBe(false);
    await expectOrdinary(user, second.deviceToken);
    expect((await startLogin(t, loginService, user.userId, third.deviceToken)).assertion).not.toBeNull();

    expect((await t.gql(REVOKE_ALL, {}, user.token)).data.revokeAllTrustedDevices).toBe(2);
    expect((await t.gql(REVOKE_ALL, {}, user.token)).data.revokeAllTrustedDevices).toBe(0);
    await expectOrdinary(user, third.deviceToken);
    await expectOrdinary(user, user.deviceToken);
    expect(await events(user.userId, 'TRUSTED_DEVICE%REVOKED')).toEqual([
      'TRUSTED_DEVICE_REVOKED: Phone',
      'TRUSTED_DEVICES_REVOKED: 2 devices: revoked by the user',
    ]);
  });

  it('revokes every device of a user whose factor was removed (two-factor still on)', async () => {
    const user = await userWithDevice();
    const phone = `+1415555${String(3000 + Math.floor(Math.random() * 6000))}`;
    const started = await t.gql(
      'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked } }',
      { p: phone, c: currentTotp(t, user.secret) },
      user.token,
    );
    expect(started.errors).toBeUndefined();
    nextStep(t);
    const confirmed = await t.gql(
      'mutation($c: String!) { confirmSmsSetup(code: $c) { status { methods } } }',
      { c: sns.lastCodeTo(phone) },
      user.token,
    );
    expect(confirmed.data.confirmSmsSetup.status.methods).toEqual(['TOTP', 'SMS']);
    const removed = await t.gql(
      'mutation($c: String!) { removeSms(code: $c) { enabled methods trustedDevices { id } } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );
    nextStep(t);
    expect(removed.data.removeSms).toEqual({ enabled: true, methods: ['TOTP'], trustedDevices: [] });
    await expectOrdinary(user, user.deviceToken);
    expect(await events(user.userId, 'TRUSTED_DEVICES_REVOKED')).toEqual([
      'TRUSTED_DEVICES_REVOKED: 1 device: phone number removed',
    ]);
  });

  it('revokes every device when recovery codes are regenerated', async () => {
    const user = await userWithDevice();
    const regenerated = await t.gql(
      'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { generatedAt } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );
    expect(regenerated.errors).toBeUndefined();
    nextStep(t);
    await expectOrdinary(user, user.deviceToken);
    expect(await events(user.userId, 'TRUSTED_DEVICES_REVOKED')).toEqual([
      'TRUSTED_DEVICES_REVOKED: 1 device: recovery codes regenerated',
    ]);
  });

  it('revokes every device when two-factor is turned off, or reset by an admin', async () => {
    const off = await userWithDevice();
    expect(
      (
        await t.gql(
          'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
          { c: off.recoveryCodes[0] },
          off.token,
        )
      ).data.disableTwoFactor.enabled,
    ).toBe(false);
    expect(await t.sql('SELECT id FROM trusted_devices WHERE user_id = ?', [off.userId])).toEqual([]);
    // Two-factor on again with a new authenticator: the old browser still asks for a code.
    const again = await enrollTotp(t, off.userId);
    await expectOrdinary(again, off.deviceToken);

    const reset = await userWithDevice();
    const admin = await t.token('support-agent', ['twofactor:admin']);
    const result = await t.gql(
      'mutation($u: ID!) { resetTwoFactor(userId: $u, reason: "lost laptop, identity checked") { enabled } }',
      { u: reset.userId },
      admin,
    );
    expect(result.data.resetTwoFactor.enabled).toBe(false);
    expect(await t.sql('SELECT id FROM trusted_devices WHERE user_id = ?', [reset.userId])).toEqual([]);
    expect(await events(reset.userId, 'TRUSTED_DEVICES_REVOKED')).toEqual([
      'TRUSTED_DEVICES_REVOKED: 1 device: two-factor reset by an admin',
    ]);
    expect(await events(off.userId, 'TRUSTED_DEVICES_REVOKED')).toEqual([
      'TRUSTED_DEVICES_REVOKED: 1 device: two-factor turned off',
    ]);
  });

  it('an organization forbidding it: tokens skip nothing and rememberDevice gives none; allowed again, they work', async () => {
    const member = await userWithDevice('member');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const other = await enrollTotp(t, uniqueId('other-owner'));
    const organizationId = uniqueId('acme');
    const otherOrganizationId = uniqueId('globex');
    await syncOrganization(t, organizationId, { [member.userId]: 'MEMBER', [owner.userId]: 'OWNER' });
    await syncOrganization(t, otherOrganizationId, { [member.userId]: 'MEMBER', [other.userId]: 'OWNER' });
    const view = async () =>
      (
        await t.gql(
          'query($o: ID!) { organization(id: $o) { allowsTrustedDevices } }',
          { o: organizationId },
          member.token,
        )
      ).data.organization.allowsTrustedDevices;
    expect(await view()).toBe(true);

    // Members, strangers and unknown organizations are refused alike.
    for (const [token, o] of [
      [member.token, organizationId],
      [other.token, organizationId],
      [owner.token, uniqueId('nowhere')],
    ])
      expect(errorCode(await t.gql(SET_ALLOWED, { o, a: false }, token))).toBe('FORBIDDEN');

    const forbidden = await t.gql(SET_ALLOWED, { o: organizationId, a: false }, owner.token);
    expect(forbidden.data.setTrustedDevicesAllowed).toEqual({ id: organizationId, allowsTrustedDevices: false });
    expect(await view()).toBe(false);
    await expectOrdinary(member, member.deviceToken);
    const refused = await loginRemembering(t, loginService, member.userId, currentTotp(t, member.secret));
    nextStep(t);
    expect(refused).toMatchObject({ deviceToken: null, deviceTokenExpiresAt: null });
    expect(refused.assertion).toEqual(expect.any(String));
    // Not deleted: still listed, still revocable.
    expect((await t.gql(DEVICES, {}, member.token)).data.me.twoFactor.trustedDevices).toHaveLength(1);

    expect((await t.gql(SET_ALLOWED, { o: organizationId, a: true }, owner.token)).errors).toBeUndefined();
    expect((await startLogin(t, loginService, member.userId, member.deviceToken)).assertion).not.toBeNull();

    // One organization of the user forbidding is enough.
    expect((await t.gql(SET_ALLOWED, { o: otherOrganizationId, a: false }, other.token)).errors).toBeUndefined();
    await expectOrdinary(member, member.deviceToken);
    expect((await t.gql(SET_ALLOWED, { o: otherOrganizationId, a: true }, other.token)).errors).toBeUndefined();
    expect((await startLogin(t, loginService, member.userId, member.deviceToken)).assertion).not.toBeNull();

    const policy = await t.sql(
      "SELECT action, actor_id FROM audit_events WHERE organization_id = ? AND action LIKE '%TRUSTED_DEVICES' ORDER BY id",
      [organizationId],
    );
    expect(policy).toEqual([
      { action: 'ORGANIZATION_FORBADE_TRUSTED_DEVICES', actor_id: owner.userId },
      { action: 'ORGANIZATION_ALLOWED_TRUSTED_DEVICES', actor_id: owner.userId },
    ]);
    // Setting what is already set changes and records nothing.
    expect((await t.gql(SET_ALLOWED, { o: organizationId, a: true }, owner.token)).errors).toBeUndefined();
    expect(
      await t.sql("SELECT id FROM audit_events WHERE organization_id = ? AND action LIKE '%TRUSTED_DEVICES'", [
        organizationId,
      ]),
    ).toHaveLength(2);
  });

  it("lists a user's devices to the user and twofactor:read, never to an owner of the user's organization", async () => {
    const member = await userWithDevice('member');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const organizationId = uniqueId('acme');
    await syncOrganization(t, organizationId, { [member.userId]: 'MEMBER', [owner.userId]: 'OWNER' });
    const asOwner = await t.gql(
      'query($o: ID!) { organization(id: $o) { members(first: 10) { edges { node { user { id twoFactor { trustedDevices { id } } } } } } } }',
      { o: organizationId },
      owner.token,
    );
    expect(errorCode(asOwner)).toBe('FORBIDDEN');
    const reader = await t.token('internal', ['twofactor:read']);
    const asReader = await t.gql(
      'query($u: ID!) { user(id: $u) { twoFactor { trustedDevices { name } } } }',
      { u: member.userId },
      reader,
    );
    expect(asReader.data.user.twoFactor.trustedDevices).toEqual([{ name: 'Firefox on Linux' }]);
    expect((await t.gql(DEVICES, {}, await t.token(uniqueId('nobody')))).data.me.twoFactor.trustedDevices).toEqual([]);
  });

  it('names are plain text, 1 to 64 characters, refused before the code is spent; none given is named for it', async () => {
    const user = await enrollTotp(t, uniqueId('td'));
    const challenge = await startLogin(t, loginService, user.userId);
    const code = currentTotp(t, user.secret);
    for (const name of [
      '',
      '   ',
      'x'.repeat(LIMITS.maxDeviceNameLength + 1),
      'Acme\u202egnp.exe',
      'a\nb',
      'zero\u200bwidth',
    ]) {
      const result = await t.gql(VERIFY_REMEMBERING, { id: challenge.id, c: code, r: true, n: name });
      expect([name, errorCode(result)]).toEqual([name, 'BAD_USER_INPUT']);
    }
    // Nothing was counted or spent: the same code still answers the same challenge.
    const unnamed = await t.gql(VERIFY_REMEMBERING, { id: challenge.id, c: code, r: true });
    expect(unnamed.data.verifyLoginChallenge.deviceToken).toEqual(expect.any(String));
    nextStep(t);
    const named = 'Safari on iPhone — 東京 🙂'.padEnd(LIMITS.maxDeviceNameLength - 1, '.');
    await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret), `  ${named}  `);
    nextStep(t);
    const listed = (await t.gql(DEVICES, {}, user.token)).data.me.twoFactor.trustedDevices;
    expect(listed.map((device: { name: string }) => device.name)).toEqual([named, 'Unnamed device']);
    // Without rememberDevice the name is not looked at.
    const plain = await startLogin(t, loginService, user.userId);
    const ignored = await t.gql(VERIFY_REMEMBERING, {
      id: plain.id,
      c: currentTotp(t, user.secret),
      r: false,
      n: '\u0000',
    });
    nextStep(t);
    expect(ignored.data.verifyLoginChallenge.deviceToken).toBeNull();
  });

  it(`keeps at most ${LIMITS.trustedDevicesPerUser} devices a user: the oldest goes`, async () => {
    const user = await userWithDevice();
    const [first] = await t.sql('SELECT id, created_at FROM trusted_devices WHERE user_id = ?', [user.userId]);
    // 49 more, newer than the first, straight into the table (their tokens are never used).
    const rows = Array.from({ length: LIMITS.trustedDevicesPerUser - 1 }, (_, i) => [
      `seed${String(i).padStart(20, '0')}`,
      user.userId,
      `seed-hash-${user.userId}-${i}`,
      `Seeded ${i}`,
      new Date(new Date(first.created_at).getTime() + (i + 1) * 1000),
      new Date(t.clock.now().getTime() + DAY_MS),
    ]);
    await t.sql('INSERT INTO trusted_devices (id, user_id, token_hash, name, created_at, expires_at) VALUES ?', [rows]);
    t.clock.advance(60_000);
    const newest = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret), 'Newest');
    nextStep(t);
    const listed = (await t.gql(DEVICES, {}, user.token)).data.me.twoFactor.trustedDevices;
    expect(listed).toHaveLength(LIMITS.trustedDevicesPerUser);
    expect(listed[0].name).toBe('Newest');
    expect(listed.map((device: { id: string }) => device.id)).not.toContain(first.id);
    await expectOrdinary(user, user.deviceToken);
    expect((await startLogin(t, loginService, user.userId, newest.deviceToken)).assertion).not.toBeNull();
    expect(await events(user.userId, 'TRUSTED_DEVICES_REVOKED')).toEqual([
      `TRUSTED_DEVICES_REVOKED: 1 oldest: more than ${LIMITS.trustedDevicesPerUser} devices`,
    ]);
  });

  it(`purges expired devices of anyone, ${LIMITS.trustedDevicePurgeBatch} at a time, after each new device`, async () => {
    const batch = LIMITS.trustedDevicePurgeBatch;
    const expiredAt = new Date(t.clock.now().getTime() - 1000);
    const rows = Array.from({ length: batch + 20 }, (_, i) => [
      `p${randomBytes(8).toString('hex')}${i}`,
      `gone-${i}`,
      `purge-hash-${randomBytes(8).toString('hex')}`,
      'Old',
      new Date(expiredAt.getTime() - 30 * DAY_MS),
      expiredAt,
    ]);
    await t.sql('INSERT INTO trusted_devices (id, user_id, token_hash, name, created_at, expires_at) VALUES ?', [rows]);
    const expired = async () =>
      Number((await t.sql('SELECT COUNT(*) AS n FROM trusted_devices WHERE expires_at <= ?', [t.clock.now()]))[0].n);
    const before = await expired();
    expect(before).toBeGreaterThanOrEqual(batch + 20);
    await userWithDevice();
    expect(await expired()).toBe(Math.max(0, before - batch));
    await userWithDevice();
    expect(await expired()).toBe(Math.max(0, before - 2 * batch));
  });

  it('counts logins in /metrics by method, a trusted device as method="device"', async () => {
    const user = await userWithDevice();
    const count = async (method: string) => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`login_successes_total{method="${method}"}`));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    const [devices, totp] = [await count('device'), await count('totp')];
    expect(totp).toBeGreaterThan(0);
    await startLogin(t, loginService, user.userId, user.deviceToken);
    await startLogin(t, loginService, user.userId, 'garbage');
    expect(await count('device')).toBe(devices + 1);
    expect(await count('totp')).toBe(totp);
  });

  it('keeps no device token in clear, nor an unkeyed hash of one, in the database, Redis or the logs', async () => {
    const user = await userWithDevice();
    await startLogin(t, loginService, user.userId, user.deviceToken);
    const other = await userWithDevice();
    await startLogin(t, loginService, other.userId, 'garbage-token-of-someone');
    const tables = (await t.sql('SHOW TABLES')).map((row) => String(Object.values(row)[0]));
    const database = (
      await Promise.all(tables.map(async (table) => JSON.stringify(await t.sql(`SELECT * FROM \`${table}\``))))
    ).join('\n');
    const keys = await redis.keys(`${prefix}*`);
    const values = await Promise.all(
      keys.map(async (key) => ((await redis.type(key)) === 'string' ? await redis.get(key) : '')),
    );
    const places = { database, redis: [...keys, ...values].join('\n'), logs: t.logs.join('\n') };
    expect(places.database).toContain(user.userId);
    for (const token of [user.deviceToken, other.deviceToken]) {
      const forms = [
        token,
        Buffer.from(token, 'base64url').toString('hex'),
        Buffer.from(token, 'base64url').toString('base64'),
        createHash('sha256').update(token).digest('hex'),
        createHash('sha256').update(token).digest('base64url'),
        createHash('sha256').update(token).digest('base64'),
      ];
      for (const [place, text] of Object.entries(places))
        for (const form of forms) expect([place, text.includes(form)]).toEqual([place, false]);
    }
  });

  it('refuses a token when the feature is off (TRUSTED_DEVICE_DAYS=0), and rememberDevice gives none', async () => {
    const user = await userWithDevice();
    const off = await startTestApp({
      databaseUrl: t.databaseUrl,
      clock: t.clock,
      storeKeyPrefix: prefix,
      env: { TRUSTED_DEVICE_DAYS: '0' },
    });
    try {
      const challenge = await startLogin(off, loginService, user.userId, user.deviceToken);
      expect(challenge.assertion).toBeNull();
      const verified = await off.gql(VERIFY_REMEMBERING, { id: challenge.id, c: currentTotp(t, user.secret), r: true });
      nextStep(t);
      expect(verified.data.verifyLoginChallenge).toMatchObject({ method: 'TOTP', deviceToken: null });
      // Still valid where the feature is on.
      expect((await startLogin(t, loginService, user.userId, user.deviceToken)).assertion).not.toBeNull();
    } finally {
      await off.close();
    }
  });

  it('a short TRUSTED_DEVICE_DAYS sets the expiry', async () => {
    const short = await startTestApp({
      databaseUrl: t.databaseUrl,
      clock: t.clock,
      storeKeyPrefix: prefix,
      env: { TRUSTED_DEVICE_DAYS: '1' },
    });
    try {
      const user = await enrollTotp(short, uniqueId('short'));
      const createdAt = t.clock.now().getTime();
      const remembered = await loginRemembering(short, loginService, user.userId, currentTotp(t, user.secret));
      expect(new Date(remembered.deviceTokenExpiresAt!).getTime() - createdAt).toBe(DAY_MS);
      t.clock.advance(DAY_MS - 1000);
      expect((await startLogin(short, loginService, user.userId, remembered.deviceToken)).assertion).not.toBeNull();
      t.clock.advance(1000);
      const challenge = await startLogin(short, loginService, user.userId, remembered.deviceToken);
      expect(challenge.assertion).toBeNull();
      expect(decodeJwt(remembered.assertion).amr).toEqual(['otp']);
    } finally {
      await short.close();
    }
  });
});
