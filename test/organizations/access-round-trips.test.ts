import { randomBytes } from 'node:crypto';
import { syncOrganization } from '../support/directory';
import { watchRoundTrips } from '../support/round-trips';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';

const ACCESS =
  'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason graceEndsAt exemptUntil } }';
const DAY = 24 * 60 * 60 * 1000;

/**
 * organizationAccess stays one indexed read whatever it decides (contract README,
 * "Enforcement"): the membership, its organization and the member's exemption,
 * joined by primary keys in one statement, one round trip to MariaDB, nothing
 * asked of Redis; with sessionAmr or without, exempt, in grace, by identity-provider MFA.
 */
describe('organizationAccess: one round trip, whatever it decides', () => {
  const prefix = `tf:art:${randomBytes(4).toString('hex')}:`;
  let t: TestApp;
  let reader: string;
  let watch: Awaited<ReturnType<typeof watchRoundTrips>>;
  const org = uniqueId('org');
  const exempt = uniqueId('exempt');
  const without = uniqueId('without');
  let withFactor: string;

  beforeAll(async () => {
    t = await startTestApp({ storeKeyPrefix: prefix, manualBackgroundWork: true });
    reader = await t.token('access-checker', ['twofactor:read']);
    const owner = await enrollTotp(t, uniqueId('owner'));
    withFactor = (await enrollTotp(t, uniqueId('totp'))).userId;
    await syncOrganization(t, org, {
      [owner.userId]: 'OWNER',
      [withFactor]: 'MEMBER',
      [exempt]: 'MEMBER',
      [without]: 'MEMBER',
    });
    const steps = [
      t.gql(
        'mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 3) { id } }',
        { o: org },
        owner.token,
      ),
      t.gql(
        'mutation($o: ID!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: true) { id } }',
        { o: org },
        owner.token,
      ),
      t.gql(
        'mutation($o: ID!, $u: ID!, $until: DateTimeISO!) { exemptFromTwoFactor(organizationId: $o, userId: $u, until: $until, reason: "on leave") { endsAt } }',
        { o: org, u: exempt, until: new Date(t.clock.now().getTime() + 10 * DAY).toISOString() },
        owner.token,
      ),
    ];
    for (const step of steps) expect((await step).errors).toBeUndefined();
    // A token verified once is remembered: the watched requests verify none.
    await t.gql(ACCESS, { o: org, u: without }, reader);
    watch = await watchRoundTrips(t.app.database, prefix);
  });
  afterAll(async () => {
    watch?.stop();
    await t?.close();
  });

  it.each([
    ['a member with a factor, no sessionAmr', () => withFactor, undefined, 'OK'],
    ['a member with a factor, signed in with it', () => withFactor, ['pwd', 'otp'], 'OK'],
    ['a member with a factor, signed in without it', () => withFactor, ['pwd'], 'SESSION_FACTOR_NOT_ACCEPTED'],
    ['the identity provider did multi-factor', () => without, ['pwd', 'mfa'], 'IDENTITY_PROVIDER_MFA'],
    ['an exempt member', () => exempt, ['pwd'], 'EXEMPT'],
    ['a member in the grace period', () => without, ['pwd'], 'GRACE_PERIOD'],
    ['not a member', () => 'nobody-at-all', ['pwd', 'otp'], 'NOT_A_MEMBER'],
  ])('%s: one statement, one round trip, no Redis', async (_name, user, sessionAmr, reason) => {
    const { result, sql, redis } = await watch.during(() =>
      t.gql(ACCESS, { o: org, u: user(), s: sessionAmr }, reader),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.organizationAccess.reason).toBe(reason);
    expect(redis).toEqual([]);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/^SELECT .* FROM memberships m JOIN organizations o .* LEFT JOIN two_factor_exemptions e /s);
  });
});
