import { randomBytes } from 'node:crypto';
import { jwtVerify } from 'jose';
import { ManualClock } from '../../src/infra/clock';
import { syncOrganization } from '../support/directory';
import {
  ASSERTION_SECRET,
  createTestDatabase,
  ENCRYPTION_KEY,
  startTestApp,
  type TestApp,
  uniqueId,
} from '../support/test-app';
import { loginRemembering, startLogin } from '../support/trusted-devices';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const DEVICES = '{ me { twoFactor { trustedDevices { name lastUsedAt } } } }';
const SET_ALLOWED =
  'mutation($o: ID!, $a: Boolean!) { setTrustedDevicesAllowed(organizationId: $o, allowed: $a) { allowsTrustedDevices } }';

/**
 * Two instances behind a load balancer (one database, one Redis, one clock):
 * a device remembered on one signs in on the other, and a revocation or an
 * organization's change on either holds on both at once.
 */
describe('trusted devices across two instances', () => {
  const clock = new ManualClock(new Date());
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let a: TestApp;
  let b: TestApp;
  let loginService: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const options = { databaseUrl: database.url, clock, storeKeyPrefix: `tf:td2:${randomBytes(4).toString('hex')}:` };
    a = await startTestApp(options);
    b = await startTestApp(options);
    loginService = await a.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
    await database?.drop();
  });

  async function userWithDeviceOn(t: TestApp) {
    const user = await enrollTotp(t, uniqueId('td2'));
    const { deviceToken } = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret));
    nextStep(t);
    return { ...user, deviceToken: deviceToken! };
  }

  it('a device remembered on A signs in on B, and A sees the use', async () => {
    const user = await userWithDeviceOn(a);
    const challenge = await startLogin(b, loginService, user.userId, user.deviceToken);
    const { payload } = await jwtVerify(challenge.assertion!, new TextEncoder().encode(ASSERTION_SECRET), {
      currentDate: clock.now(),
    });
    expect(payload).toMatchObject({ sub: user.userId, amr: ['device'], jti: challenge.id });
    const [device] = (await a.gql(DEVICES, {}, user.token)).data.me.twoFactor.trustedDevices;
    expect(device.lastUsedAt).toBe(clock.now().toISOString());
  });

  it('a revocation on B holds on A at once, also against uses racing it', async () => {
    const user = await userWithDeviceOn(a);
    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, turn) =>
        startLogin(turn % 2 ? a : b, loginService, user.userId, user.deviceToken),
      ),
      b.gql('mutation { revokeAllTrustedDevices }', {}, user.token),
    ]);
    expect((results[10] as { data: { revokeAllTrustedDevices: number } }).data.revokeAllTrustedDevices).toBe(1);
    for (const t of [a, b])
      expect((await startLogin(t, loginService, user.userId, user.deviceToken)).assertion).toBeNull();
    // Every use that succeeded committed before the revocation: none after it.
    const events = await a.sql(
      "SELECT action FROM audit_events WHERE user_id = ? AND action IN ('TRUSTED_DEVICE_USED', 'TRUSTED_DEVICES_REVOKED') ORDER BY id",
      [user.userId],
    );
    const uses = results.slice(0, 10).filter((challenge) => (challenge as { assertion: string | null }).assertion);
    expect(events.map((event) => event.action)).toEqual([
      ...uses.map(() => 'TRUSTED_DEVICE_USED'),
      'TRUSTED_DEVICES_REVOKED',
    ]);
  });

  it("an organization's owner forbids on A: B skips nothing; allowed on B: A skips again", async () => {
    const member = await userWithDeviceOn(b);
    const owner = await enrollTotp(a, uniqueId('owner'));
    const organizationId = uniqueId('acme');
    await syncOrganization(a, organizationId, { [member.userId]: 'MEMBER', [owner.userId]: 'OWNER' });
    expect((await a.gql(SET_ALLOWED, { o: organizationId, a: false }, owner.token)).errors).toBeUndefined();
    expect((await startLogin(b, loginService, member.userId, member.deviceToken)).assertion).toBeNull();
    expect((await b.gql(SET_ALLOWED, { o: organizationId, a: true }, owner.token)).errors).toBeUndefined();
    expect((await startLogin(a, loginService, member.userId, member.deviceToken)).assertion).not.toBeNull();
  });

  it('a token outlives a key rotation (the old key retired)', async () => {
    const user = await userWithDeviceOn(a);
    // A new key under a new id, the old one (ENCRYPTION_KEY's id 0) after it: a key is never replaced under its id.
    const rotated = await startTestApp({
      databaseUrl: database!.url,
      clock,
      env: { ENCRYPTION_KEY: '', ENCRYPTION_KEYS: `k2:${randomBytes(32).toString('base64')},0:${ENCRYPTION_KEY}` },
    });
    try {
      expect((await startLogin(rotated, loginService, user.userId, user.deviceToken)).assertion).not.toBeNull();
    } finally {
      await rotated.close();
    }
  });
});
