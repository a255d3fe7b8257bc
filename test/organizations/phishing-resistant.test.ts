import { syncOrganization } from '../support/directory';
import { webAuthnStandIn } from '../support/phishing-resistant';
import { errorCode, type GqlResult, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';

const FIELDS = 'id requiresTwoFactor requiresPhishingResistantTwoFactor twoFactorRequiredSince gracePeriodEndsAt';
const REQUIRE_PR = `mutation($o: ID!, $d: Int) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: $d) { ${FIELDS} } }`;
const REQUIRE = `mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { ${FIELDS} } }`;
const STOP = `mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { ${FIELDS} } }`;
const ORGANIZATION = `query($id: ID!) { organization(id: $id) { ${FIELDS} } }`;
const ACCESS =
  'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason graceEndsAt } }';
/** A session signed in with a security key, as the login service passes it. */
const KEY_SESSION = ['pwd', 'hwk'];
const COMPLIANCE = `query($id: ID!) { organization(id: $id) { compliance {
  totalMembers membersWithTwoFactor membersWithoutTwoFactor ownersWithoutTwoFactor membersWithPhishingResistant ownersWithoutPhishingResistant compliant
} } }`;
const MEMBERS = `query($id: ID!, $first: Int, $after: String, $filter: MemberFilter) {
  organization(id: $id) { members(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { user { id } } } } }
}`;
const SET =
  'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }';
const REMOVE = 'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }';
const DISABLE = 'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }';
const RESET = 'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }';
const DAY = 24 * 60 * 60 * 1000;

const OK = { allowed: true, reason: 'OK', graceEndsAt: null };
const PR_REQUIRED = { allowed: false, reason: 'PHISHING_RESISTANT_REQUIRED', graceEndsAt: null };
const TFA_REQUIRED = { allowed: false, reason: 'TWO_FACTOR_REQUIRED', graceEndsAt: null };
const NOT_ACCEPTED = { allowed: false, reason: 'SESSION_FACTOR_NOT_ACCEPTED', graceEndsAt: null };

type Role = 'OWNER' | 'MEMBER';
interface Filter {
  twoFactorEnabled?: boolean;
  phishingResistant?: boolean;
  role?: Role;
}

describe('phishing-resistant two-factor, the organization side', () => {
  let t: TestApp;
  let reader: string;
  let directory: string;
  let admin: string;
  let webAuthn: ReturnType<typeof webAuthnStandIn>;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    reader = await t.token('pr-reader', ['twofactor:read']);
    directory = await t.token('directory-sync', ['twofactor:directory']);
    admin = await t.token('support-agent', ['twofactor:admin']);
    webAuthn = webAuthnStandIn(t.app, t.clock);
  });
  afterAll(() => t.close());

  const access = async (organizationId: string, userId: string, sessionAmr?: string[]) => {
    const result = await t.gql(ACCESS, { o: organizationId, u: userId, s: sessionAmr }, reader);
    expect(result.errors).toBeUndefined();
    return result.data.organizationAccess;
  };
  const compliance = async (organizationId: string) =>
    (await t.gql(COMPLIANCE, { id: organizationId }, reader)).data.organization.compliance;
  const policyEvents = async (organizationId: string) =>
    t.sql(
      "SELECT action, actor_id, reason FROM audit_events WHERE organization_id = ? AND action NOT IN ('ORGANIZATION_UPSERTED', 'MEMBERSHIP_SET') ORDER BY id",
      [organizationId],
    );
  /** A user with TOTP and a (stand-in) WebAuthn credential, as the factor will leave it. */
  const phishingResistantUser = async (prefix: string) => {
    const user = await enrollTotp(t, uniqueId(prefix));
    await webAuthn.addFirstCredential(user.userId);
    return user;
  };

  /** Every counter of the organization, against a count of its memberships; and each membership's copies against the user's row. */
  async function expectCountersExact(organizationId: string) {
    const [organization] = await t.sql('SELECT * FROM organizations WHERE id = ?', [organizationId]);
    const groups = await t.sql(
      'SELECT role, two_factor_enabled AS tfa, phishing_resistant AS pr, COUNT(*) AS n FROM memberships WHERE organization_id = ? GROUP BY role, two_factor_enabled, phishing_resistant',
      [organizationId],
    );
    const count = (role: Role, match: (group: { tfa: number; pr: number }) => boolean) =>
      groups.filter((group) => group.role === role && match(group)).reduce((sum, group) => sum + Number(group.n), 0);
    const expected: Record<string, number> = {};
    const actual: Record<string, number> = {};
    for (const [who, role] of [
      ['owners', 'OWNER'],
      ['members', 'MEMBER'],
    ] as const) {
      const cells: Record<string, (group: { tfa: number; pr: number }) => boolean> = {
        with_two_factor: (g) => g.tfa === 1,
        without_two_factor: (g) => g.tfa === 0,
        with_phishing_resistant: (g) => g.pr === 1,
        without_phishing_resistant: (g) => g.pr === 0,
        phishing_resistant_without_two_factor: (g) => g.pr === 1 && g.tfa === 0,
      };
      for (const [cell, match] of Object.entries(cells)) {
        expected[`${who}_${cell}`] = count(role, match);
        actual[`${who}_${cell}`] = Number(organization[`${who}_${cell}`]);
      }
    }
    expect({ organizationId, counters: actual }).toEqual({ organizationId, counters: expected });
    const outOfStep = await t.sql(
      `SELECT m.user_id FROM memberships m LEFT JOIN users u ON u.id = m.user_id WHERE m.organization_id = ?
          AND (m.two_factor_enabled <> COALESCE(u.two_factor_enabled, 0) OR m.phishing_resistant <> COALESCE(u.phishing_resistant, 0))`,
      [organizationId],
    );
    expect(outOfStep).toEqual([]);
  }

  /** Every combination of the three filters: the page (up to 100) and totalCount against the memberships themselves. */
  async function expectFiltersExact(organizationId: string) {
    const rows = await t.sql(
      'SELECT user_id, role, two_factor_enabled, phishing_resistant FROM memberships WHERE organization_id = ?',
      [organizationId],
    );
    for (const twoFactorEnabled of [undefined, true, false]) {
      for (const phishingResistant of [undefined, true, false]) {
        for (const role of [undefined, 'OWNER', 'MEMBER'] as const) {
          const filter: Filter = { twoFactorEnabled, phishingResistant, role };
          const want = rows
            .filter(
              (row) =>
                (role ?? row.role) === row.role &&
                (twoFactorEnabled ?? row.two_factor_enabled === 1) === (row.two_factor_enabled === 1) &&
                (phishingResistant ?? row.phishing_resistant === 1) === (row.phishing_resistant === 1),
            )
            .map((row) => row.user_id as string)
            .sort();
          const result = await t.gql(MEMBERS, { id: organizationId, first: 100, filter }, reader);
          expect(result.errors).toBeUndefined();
          const members = result.data.organization.members;
          expect({
            filter,
            totalCount: members.totalCount,
            ids: members.edges.map((edge: any) => edge.node.user.id),
          }).toEqual({
            filter,
            totalCount: want.length,
            ids: want,
          });
        }
      }
    }
  }

  describe('who may require it', () => {
    const org = uniqueId('org');
    let owner: string;
    let member: string;
    beforeAll(async () => {
      owner = (await phishingResistantUser('owner')).userId;
      member = (await phishingResistantUser('member')).userId;
      await syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' });
    });

    it('needs a token', async () => {
      expect(errorCode(await t.gql(REQUIRE_PR, { o: org }))).toBe('UNAUTHENTICATED');
    });

    it('is FORBIDDEN alike for an organization that does not exist and for one the caller does not own', async () => {
      const missing = await t.gql(REQUIRE_PR, { o: uniqueId('missing') }, await t.token(owner));
      const notOwned = await t.gql(REQUIRE_PR, { o: org }, await t.token(uniqueId('stranger')));
      expect(errorCode(missing)).toBe('FORBIDDEN');
      expect(missing.errors).toEqual(notOwned.errors);
      expect(missing.data).toBeNull();
    });

    it.each([
      ['a member (phishing-resistant itself)', () => member, []],
      ['a twofactor:read caller', () => 'svc-reader', ['twofactor:read']],
      ['a twofactor:admin caller', () => 'svc-admin', ['twofactor:admin']],
      ['a twofactor:directory caller', () => 'directory-sync', ['twofactor:directory']],
    ])('is FORBIDDEN for %s', async (_name, subject, scopes) => {
      expect(errorCode(await t.gql(REQUIRE_PR, { o: org }, await t.token(subject(), scopes)))).toBe('FORBIDDEN');
      const [row] = await t.sql(
        'SELECT requires_two_factor, requires_phishing_resistant FROM organizations WHERE id = ?',
        [org],
      );
      expect(row).toEqual({ requires_two_factor: 0, requires_phishing_resistant: 0 });
    });

    it.each([[-1], [91]])('refuses gracePeriodDays %p with BAD_USER_INPUT', async (days) => {
      expect(errorCode(await t.gql(REQUIRE_PR, { o: org, d: days }, await t.token(owner)))).toBe('BAD_USER_INPUT');
    });
  });

  describe('the owner precondition', () => {
    it('is refused with the ids of the owners without a WebAuthn credential (two-factor is not enough), and passes once every owner has one', async () => {
      const org = uniqueId('org');
      const suffix = uniqueId('');
      const [ownerA, ownerB, ownerC] = [`a${suffix}`, `b${suffix}`, `c${suffix}`];
      const member = uniqueId('member');
      await enrollTotp(t, ownerA);
      await enrollTotp(t, ownerB);
      await syncOrganization(t, org, { [ownerA]: 'OWNER', [ownerB]: 'OWNER', [ownerC]: 'OWNER', [member]: 'MEMBER' });
      const tokenA = await t.token(ownerA);

      // B and A have TOTP, C nothing: all three named.
      const refused = await t.gql(REQUIRE_PR, { o: org }, tokenA);
      expect(errorCode(refused)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(refused.errors![0].extensions!.userIds).toEqual([ownerA, ownerB, ownerC]);
      expect(refused.data).toBeNull();
      // Any factor would do for requireTwoFactor but for C.
      expect((await t.gql(REQUIRE, { o: org }, tokenA)).errors![0].extensions!.userIds).toEqual([ownerC]);

      await webAuthn.addFirstCredential(ownerA);
      await enrollTotp(t, ownerC);
      await webAuthn.addFirstCredential(ownerC);
      const stillRefused = await t.gql(REQUIRE_PR, { o: org }, tokenA);
      expect(errorCode(stillRefused)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(stillRefused.errors![0].extensions!.userIds).toEqual([ownerB]);
      expect((await t.gql(ORGANIZATION, { id: org }, reader)).data.organization).toMatchObject({
        requiresTwoFactor: false,
        requiresPhishingResistantTwoFactor: false,
      });
      expect(await policyEvents(org)).toEqual([]);

      // A member without it does not block it: members are simply not compliant.
      await webAuthn.addFirstCredential(ownerB);
      const now = t.clock.now().toISOString();
      const passed = await t.gql(REQUIRE_PR, { o: org }, tokenA);
      expect(passed.errors).toBeUndefined();
      expect(passed.data.requirePhishingResistantTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        requiresPhishingResistantTwoFactor: true,
        twoFactorRequiredSince: now,
        gracePeriodEndsAt: null,
      });
      const [row] = await t.sql(
        'SELECT requires_two_factor, requires_phishing_resistant FROM organizations WHERE id = ?',
        [org],
      );
      expect(row).toEqual({ requires_two_factor: 1, requires_phishing_resistant: 1 });
      expect(await policyEvents(org)).toEqual([
        { action: 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT', actor_id: ownerA, reason: null },
      ]);
      expect(await compliance(org)).toEqual({
        totalMembers: 4,
        membersWithTwoFactor: 3,
        membersWithoutTwoFactor: 1,
        ownersWithoutTwoFactor: 0,
        membersWithPhishingResistant: 3,
        ownersWithoutPhishingResistant: 0,
        compliant: false,
      });
    });

    it('holds every time: an owner added later without it makes the next call refused, and the refusal changes nothing', async () => {
      const org = uniqueId('org');
      const owner = await phishingResistantUser('owner');
      await syncOrganization(t, org, { [owner.userId]: 'OWNER' });
      expect((await t.gql(REQUIRE_PR, { o: org, d: 14 }, owner.token)).errors).toBeUndefined();
      const before = (await t.gql(ORGANIZATION, { id: org }, reader)).data.organization;
      const late = await enrollTotp(t, uniqueId('late-owner'));
      await syncOrganization(t, org, { [late.userId]: 'OWNER' });
      expect((await compliance(org)).ownersWithoutPhishingResistant).toBe(1);
      const again = await t.gql(REQUIRE_PR, { o: org, d: 0 }, owner.token);
      expect(errorCode(again)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(again.errors![0].extensions!.userIds).toEqual([late.userId]);
      expect((await t.gql(ORGANIZATION, { id: org }, reader)).data.organization).toEqual(before);
      expect((await policyEvents(org)).map((event) => event.action)).toEqual([
        'ORGANIZATION_REQUIRED_PHISHING_RESISTANT',
      ]);
    });
  });

  describe('access, grace period and the other policy mutations', () => {
    it('refuses members without a WebAuthn credential with PHISHING_RESISTANT_REQUIRED (TOTP is not enough), after a grace period', async () => {
      const org = uniqueId('org');
      const owner = await phishingResistantUser('owner');
      const withTotp = await enrollTotp(t, uniqueId('totp-member'));
      const withKey = await phishingResistantUser('key-member');
      const without = uniqueId('member');
      await syncOrganization(t, org, {
        [owner.userId]: 'OWNER',
        [withTotp.userId]: 'MEMBER',
        [withKey.userId]: 'MEMBER',
        [without]: 'MEMBER',
      });

      const start = t.clock.now();
      const endsAt = new Date(start.getTime() + 7 * DAY).toISOString();
      const required = await t.gql(REQUIRE_PR, { o: org, d: 7 }, owner.token);
      expect(required.data.requirePhishingResistantTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        requiresPhishingResistantTwoFactor: true,
        twoFactorRequiredSince: start.toISOString(),
        gracePeriodEndsAt: endsAt,
      });
      expect(await policyEvents(org)).toEqual([
        {
          action: 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT',
          actor_id: owner.userId,
          reason: 'grace period of 7 days',
        },
      ]);
      const grace = { allowed: true, reason: 'GRACE_PERIOD', graceEndsAt: endsAt };
      expect(await access(org, withTotp.userId)).toEqual(grace);
      expect(await access(org, without)).toEqual(grace);
      expect(await access(org, withKey.userId, KEY_SESSION)).toEqual(OK);
      expect(await access(org, owner.userId, KEY_SESSION)).toEqual(OK);
      // Without the session's amr, a member who has a key is refused: the requirement fails closed.
      expect(await access(org, withKey.userId)).toEqual(NOT_ACCEPTED);
      expect(await access(org, uniqueId('stranger'))).toEqual({
        allowed: false,
        reason: 'NOT_A_MEMBER',
        graceEndsAt: null,
      });

      t.clock.advance(7 * DAY - 1_000);
      expect(await access(org, withTotp.userId)).toEqual(grace);
      t.clock.advance(1_000);
      expect(await access(org, withTotp.userId)).toEqual(PR_REQUIRED);
      expect(await access(org, without)).toEqual(PR_REQUIRED);
      expect(await access(org, withKey.userId, KEY_SESSION)).toEqual(OK);
      expect((await t.gql(ORGANIZATION, { id: org }, reader)).data.organization.gracePeriodEndsAt).toBeNull();

      // The TOTP member adds a key: let in at once (signed in with it); a member losing it: refused at once.
      await webAuthn.addFirstCredential(withTotp.userId);
      expect(await access(org, withTotp.userId, KEY_SESSION)).toEqual(OK);
      await t.gql(STOP, { o: org }, owner.token);
      await webAuthn.removeLastCredential(withKey.userId);
      await t.gql(REQUIRE_PR, { o: org }, owner.token);
      expect(await access(org, withKey.userId)).toEqual(PR_REQUIRED);
      expect(await compliance(org)).toMatchObject({
        membersWithPhishingResistant: 2,
        ownersWithoutPhishingResistant: 0,
        compliant: false,
      });
    });

    it('keeps the last WebAuthn credential of a member while an organization requires it; organizations that require only two-factor do not count', async () => {
      const [orgA, orgB, orgC] = [uniqueId('org-a'), uniqueId('org-b'), uniqueId('org-c')].sort();
      const owner = await phishingResistantUser('owner');
      const member = await phishingResistantUser('member');
      for (const org of [orgA, orgB, orgC])
        await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
      await t.gql(REQUIRE_PR, { o: orgC }, owner.token);
      await t.gql(REQUIRE, { o: orgB }, owner.token);
      await t.gql(REQUIRE_PR, { o: orgA }, owner.token);

      expect(await webAuthn.requiring(member.userId)).toEqual([orgA, orgC]);
      await expect(webAuthn.removeLastCredential(member.userId)).rejects.toMatchObject({
        code: 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
        extensions: { organizationIds: [orgA, orgC] },
      });
      expect(
        (await t.sql('SELECT phishing_resistant FROM users WHERE id = ?', [member.userId]))[0].phishing_resistant,
      ).toBe(1);

      // requireTwoFactor relaxes orgA and orgC back to any factor: the member may remove its key, TOTP still serves.
      await t.gql(REQUIRE, { o: orgA }, owner.token);
      await t.gql(REQUIRE, { o: orgC }, owner.token);
      expect(await webAuthn.requiring(member.userId)).toEqual([]);
      await webAuthn.removeLastCredential(member.userId);
      for (const org of [orgA, orgB, orgC]) {
        expect(await access(org, member.userId)).toEqual(OK);
        await expectCountersExact(org);
      }
    });

    it('requireTwoFactor relaxes it to any factor, requirePhishingResistantTwoFactor again sets the grace anew, stopRequiringTwoFactor ends both; each audited', async () => {
      const org = uniqueId('org');
      const owner = await phishingResistantUser('owner');
      const withTotp = await enrollTotp(t, uniqueId('totp-member'));
      const without = uniqueId('member');
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [withTotp.userId]: 'MEMBER', [without]: 'MEMBER' });

      // First any factor, then the stronger policy: required since the first, grace anew.
      const since = t.clock.now().toISOString();
      expect((await t.gql(REQUIRE, { o: org }, owner.token)).errors).toBeUndefined();
      expect(await access(org, withTotp.userId)).toEqual(OK);
      expect(await access(org, without)).toEqual(TFA_REQUIRED);
      t.clock.advance(60_000);
      const endsAt = new Date(t.clock.now().getTime() + 3 * DAY).toISOString();
      const upgraded = await t.gql(REQUIRE_PR, { o: org, d: 3 }, owner.token);
      expect(upgraded.data.requirePhishingResistantTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        requiresPhishingResistantTwoFactor: true,
        twoFactorRequiredSince: since,
        gracePeriodEndsAt: endsAt,
      });
      t.clock.advance(3 * DAY);
      expect(await access(org, withTotp.userId)).toEqual(PR_REQUIRED);
      expect(await access(org, without)).toEqual(PR_REQUIRED);

      // The same again: only the grace period, as requireTwoFactor does.
      const graceAgain = new Date(t.clock.now().getTime() + 2 * DAY).toISOString();
      expect(
        (await t.gql(REQUIRE_PR, { o: org, d: 2 }, owner.token)).data.requirePhishingResistantTwoFactor
          .gracePeriodEndsAt,
      ).toBe(graceAgain);
      expect(
        (await t.gql(REQUIRE_PR, { o: org, d: 0 }, owner.token)).data.requirePhishingResistantTwoFactor
          .gracePeriodEndsAt,
      ).toBeNull();

      // Relaxed: any factor again.
      const relaxed = await t.gql(REQUIRE, { o: org }, owner.token);
      expect(relaxed.data.requireTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        requiresPhishingResistantTwoFactor: false,
        twoFactorRequiredSince: since,
        gracePeriodEndsAt: null,
      });
      expect(await access(org, withTotp.userId)).toEqual(OK);
      expect(await access(org, without)).toEqual(TFA_REQUIRED);
      expect((await compliance(org)).compliant).toBe(false);

      // Stronger again, then stopped: both end.
      expect((await t.gql(REQUIRE_PR, { o: org }, owner.token)).errors).toBeUndefined();
      const stopped = await t.gql(STOP, { o: org }, owner.token);
      expect(stopped.data.stopRequiringTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: false,
        requiresPhishingResistantTwoFactor: false,
        twoFactorRequiredSince: null,
        gracePeriodEndsAt: null,
      });
      const [row] = await t.sql(
        'SELECT requires_two_factor, requires_phishing_resistant FROM organizations WHERE id = ?',
        [org],
      );
      expect(row).toEqual({ requires_two_factor: 0, requires_phishing_resistant: 0 });
      expect(await access(org, without)).toEqual(OK);
      expect(await access(org, withTotp.userId)).toEqual(OK);
      expect((await compliance(org)).compliant).toBe(true);
      // Nothing is required: removing the last credential is allowed.
      await webAuthn.removeLastCredential(owner.userId);

      const actor = owner.userId;
      expect(await policyEvents(org)).toEqual([
        { action: 'ORGANIZATION_REQUIRED_TWO_FACTOR', actor_id: actor, reason: null },
        { action: 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT', actor_id: actor, reason: 'grace period of 3 days' },
        { action: 'ORGANIZATION_GRACE_PERIOD_CHANGED', actor_id: actor, reason: 'grace period of 2 days' },
        { action: 'ORGANIZATION_GRACE_PERIOD_CHANGED', actor_id: actor, reason: 'grace period ended' },
        { action: 'ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT', actor_id: actor, reason: null },
        { action: 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT', actor_id: actor, reason: null },
        { action: 'ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR', actor_id: actor, reason: null },
      ]);
    });
  });

  describe('counters and the member filter', () => {
    it('stay exact through every kind of change: joining, role changes, keys, two-factor, leaving, resets, erasure, deletion', async () => {
      const org = uniqueId('org');
      const other = uniqueId('org-other');
      const owner = await phishingResistantUser('owner');
      const keyMember = await phishingResistantUser('key');
      const totpMember = await enrollTotp(t, uniqueId('totp'));
      const plain = uniqueId('plain');
      const shared = await phishingResistantUser('shared');
      const both = [org, other];
      const check = async () => {
        for (const id of both) await expectCountersExact(id);
      };

      await syncOrganization(t, org, {
        [owner.userId]: 'OWNER',
        [keyMember.userId]: 'MEMBER',
        [totpMember.userId]: 'MEMBER',
        [plain]: 'MEMBER',
      });
      await syncOrganization(t, other, { [owner.userId]: 'MEMBER', [shared.userId]: 'OWNER', [plain]: 'OWNER' });
      await check();
      expect(await compliance(org)).toEqual({
        totalMembers: 4,
        membersWithTwoFactor: 3,
        membersWithoutTwoFactor: 1,
        ownersWithoutTwoFactor: 0,
        membersWithPhishingResistant: 2,
        ownersWithoutPhishingResistant: 0,
        compliant: true,
      });
      await expectFiltersExact(org);

      // Role changes, both ways, for members with and without a key.
      for (const [userId, role] of [
        [keyMember.userId, 'OWNER'],
        [plain, 'MEMBER'],
        [shared.userId, 'MEMBER'],
        [totpMember.userId, 'OWNER'],
      ] as const) {
        for (const id of both)
          if ((await t.sql('SELECT 1 FROM memberships WHERE organization_id = ? AND user_id = ?', [id, userId])).length)
            await t.gql(SET, { o: id, u: userId, r: role }, directory);
      }
      await check();
      expect((await compliance(org)).ownersWithoutPhishingResistant).toBe(1);

      // Keys added and removed; the same value again changes nothing.
      await webAuthn.addFirstCredential(totpMember.userId);
      await webAuthn.addFirstCredential(totpMember.userId);
      await check();
      await webAuthn.removeLastCredential(keyMember.userId);
      await webAuthn.removeLastCredential(keyMember.userId);
      await check();

      // Two-factor off and on for a user with a key (the rare combination: it is counted exactly too).
      expect((await t.gql(DISABLE, { c: owner.recoveryCodes[0] }, owner.token)).data.disableTwoFactor.enabled).toBe(
        false,
      );
      await check();
      await expectFiltersExact(org);
      await enrollTotp(t, owner.userId);
      await check();
      // An admin reset takes two-factor (the stand-in key stays: the factor is not in this branch).
      expect(
        (await t.gql(RESET, { u: totpMember.userId, r: 'lost device, verified by ticket 1' }, admin)).errors,
      ).toBeUndefined();
      await check();
      await expectFiltersExact(org);

      // A user with a key joins (copied at once), one leaves, one is erased.
      const late = await phishingResistantUser('late');
      await t.gql(SET, { o: org, u: late.userId, r: 'MEMBER' }, directory);
      await check();
      expect((await t.gql(REMOVE, { o: org, u: keyMember.userId }, directory)).data.removeMembership).toBe(true);
      await check();
      expect(
        (await t.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: shared.userId }, directory)).data.deleteUser,
      ).toBe(true);
      await check();
      await expectFiltersExact(org);
      await expectFiltersExact(other);

      // Deleting one organization leaves the other's counters as they were.
      const [before] = await t.sql('SELECT * FROM organizations WHERE id = ?', [other]);
      expect(
        (await t.gql('mutation($id: ID!) { deleteOrganization(id: $id) }', { id: org }, directory)).data
          .deleteOrganization,
      ).toBe(true);
      expect((await t.sql('SELECT * FROM organizations WHERE id = ?', [other]))[0]).toEqual(before);
      await expectCountersExact(other);
    });

    describe('the phishingResistant filter', () => {
      const org = uniqueId('org');
      const suffix = uniqueId('');
      // Byte order: upper case sorts before lower case.
      const people: { id: string; role: Role; twoFactor: boolean; key: boolean }[] = [
        ['Zulu', 'OWNER', true, true],
        ['alpha', 'OWNER', true, false],
        ['Bravo', 'MEMBER', true, true],
        ['charlie', 'MEMBER', false, false],
        ['Delta', 'MEMBER', true, false],
        ['echo', 'MEMBER', true, true],
        ['Foxtrot', 'MEMBER', false, false],
        ['golf', 'OWNER', true, true],
        ['hotel', 'MEMBER', true, true],
      ].map(([name, role, twoFactor, key]) => ({
        id: `${name}${suffix}`,
        role: role as Role,
        twoFactor: twoFactor as boolean,
        key: key as boolean,
      }));
      let owner: string;
      beforeAll(async () => {
        for (const person of people.filter((p) => p.twoFactor)) await enrollTotp(t, person.id);
        for (const person of people.filter((p) => p.key)) await webAuthn.addFirstCredential(person.id);
        await syncOrganization(t, org, Object.fromEntries(people.map((p) => [p.id, p.role])));
        owner = await t.token(people[0].id);
      });

      it.each<[string, Filter]>([
        ['phishingResistant: true', { phishingResistant: true }],
        ['phishingResistant: false', { phishingResistant: false }],
        ['phishingResistant: false, role: OWNER', { phishingResistant: false, role: 'OWNER' }],
        ['phishingResistant: true, role: MEMBER', { phishingResistant: true, role: 'MEMBER' }],
        ['phishingResistant: false, twoFactorEnabled: true', { phishingResistant: false, twoFactorEnabled: true }],
        [
          'phishingResistant: false, twoFactorEnabled: true, role: MEMBER',
          { phishingResistant: false, twoFactorEnabled: true, role: 'MEMBER' },
        ],
      ])(
        '%s: every match once, in byte order, across pages of 2, with totalCount after the filter',
        async (_name, filter) => {
          const want = people
            .filter(
              (p) =>
                (filter.role ?? p.role) === p.role &&
                (filter.twoFactorEnabled ?? p.twoFactor) === p.twoFactor &&
                (filter.phishingResistant ?? p.key) === p.key,
            )
            .map((p) => p.id)
            .sort();
          const ids: string[] = [];
          let after: string | null = null;
          for (let pages = 0; pages < 10; pages += 1) {
            const result: GqlResult<any> = await t.gql(MEMBERS, { id: org, first: 2, after, filter }, owner);
            expect(result.errors).toBeUndefined();
            const connection = result.data.organization.members;
            expect(connection.totalCount).toBe(want.length);
            ids.push(...connection.edges.map((edge: any) => edge.node.user.id));
            if (!connection.pageInfo.hasNextPage) break;
            after = connection.pageInfo.endCursor;
          }
          expect(ids).toEqual(want);
        },
      );

      it('every combination of filters agrees with the memberships', async () => {
        await expectFiltersExact(org);
      });

      it('refuses a cursor of a list with the filter on a list without it, and the other way round; cursors without it keep working', async () => {
        const page = async (filter: Filter | undefined, after?: string) =>
          t.gql(MEMBERS, { id: org, first: 1, after, filter }, owner);
        const withFilter: string = (await page({ phishingResistant: true })).data.organization.members.pageInfo
          .endCursor;
        const withoutFilter: string = (await page(undefined)).data.organization.members.pageInfo.endCursor;
        expect((await page({ phishingResistant: true }, withFilter)).errors).toBeUndefined();
        expect(errorCode(await page({ phishingResistant: false }, withFilter))).toBe('BAD_USER_INPUT');
        expect(errorCode(await page(undefined, withFilter))).toBe('BAD_USER_INPUT');
        expect(errorCode(await page({ phishingResistant: true }, withoutFilter))).toBe('BAD_USER_INPUT');
        // The form a cursor had before the filter existed still reads.
        const older = Buffer.from(JSON.stringify([`members:${org}:*:*`, people[1].id])).toString('base64url');
        expect((await page(undefined, older)).errors).toBeUndefined();
      });

      it('each combination is read through the index for it: a range scan in user order, no sort', async () => {
        const logger = t.app.database.dataSource.logger;
        const original = logger.logQuery;
        const pages: { query: string; parameters: unknown[] }[] = [];
        logger.logQuery = function (this: typeof logger, query, parameters, queryRunner) {
          if (/FROM `?memberships`?\b/.test(query) && /ORDER BY/.test(query))
            pages.push({ query, parameters: (parameters as unknown[] | undefined) ?? [] });
          return original.call(this, query, parameters, queryRunner);
        };
        const expectations: [Filter, string][] = [
          [{ phishingResistant: false }, 'idx_memberships_org_pr_user'],
          [{ phishingResistant: true, role: 'OWNER' }, 'idx_memberships_org_pr_role_user'],
          [{ phishingResistant: false, twoFactorEnabled: true }, 'idx_memberships_org_tfa_pr_user'],
          [{ phishingResistant: true, twoFactorEnabled: true, role: 'MEMBER' }, 'idx_memberships_org_tfa_pr_role_user'],
          [{ twoFactorEnabled: false }, 'idx_memberships_org_tfa_user'],
        ];
        try {
          for (const [filter, index] of expectations) {
            pages.length = 0;
            expect((await t.gql(MEMBERS, { id: org, first: 2, filter }, reader)).errors).toBeUndefined();
            expect(pages).toHaveLength(1);
            expect(pages[0].query).toContain(`FORCE INDEX (\`${index}\`)`);
            const plan = await t.sql(`EXPLAIN ${pages[0].query}`, pages[0].parameters);
            expect({ filter, key: plan[0].key, sorts: /filesort/.test(plan[0].Extra ?? '') }).toEqual({
              filter,
              key: index,
              sorts: false,
            });
          }
        } finally {
          logger.logQuery = original;
        }
      });
    });
  });

  /**
   * requirePhishingResistantTwoFactor checks the owners and changes the policy
   * atomically: an owner removing its last WebAuthn credential at the same moment
   * (checking requiringPhishingResistant under the organizations' locks, as the
   * factor will) either goes first, and the policy is refused, or is refused
   * itself. Never both; the counters stay exact either way.
   */
  describe('racing an owner who removes the last WebAuthn credential', () => {
    const ROUNDS = 15;
    const REQUIRE_ONLY =
      'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o) { requiresPhishingResistantTwoFactor } }';

    it(`never ends with the policy on and an owner without it (${ROUNDS} rounds)`, async () => {
      const outcomes = { policyWon: 0, removalWon: 0 };
      for (let round = 0; round < ROUNDS; round += 1) {
        const org = uniqueId(`race-${round}`);
        const requester = await phishingResistantUser('requester');
        const leaver = await phishingResistantUser('leaver');
        const member = uniqueId('member');
        await syncOrganization(t, org, { [requester.userId]: 'OWNER', [leaver.userId]: 'OWNER', [member]: 'MEMBER' });

        // Fired together: requests spread over a few milliseconds, and the removal
        // (in process, so quicker to reach its locks than a request) starting later
        // each round, so that it meets them at every point, before and after.
        const delays = [0, 1, 2, 4, 7, 11];
        const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
        const [removal, ...requires] = await Promise.all([
          sleep(round)
            .then(() => webAuthn.removeLastCredential(leaver.userId))
            .then(
              () => 'OK',
              (error) => error.code as string,
            ),
          ...delays.map((delay) => sleep(delay).then(() => t.gql(REQUIRE_ONLY, { o: org }, requester.token))),
        ]);

        const [organization] = await t.sql(
          'SELECT requires_phishing_resistant, owners_with_phishing_resistant, owners_without_phishing_resistant FROM organizations WHERE id = ?',
          [org],
        );
        const [user] = await t.sql('SELECT phishing_resistant FROM users WHERE id = ?', [leaver.userId]);
        expect({
          round,
          broken: organization.requires_phishing_resistant === 1 && user.phishing_resistant === 0,
        }).toEqual({ round, broken: false });
        const requireCodes = requires.map((result) => errorCode(result) ?? 'OK');
        if (removal === 'OK') {
          outcomes.removalWon += 1;
          expect({ round, requireCodes }).toEqual({
            round,
            requireCodes: delays.map(() => 'OWNERS_WITHOUT_TWO_FACTOR'),
          });
          for (const result of requires) expect(result.errors![0].extensions!.userIds).toEqual([leaver.userId]);
          expect(organization.requires_phishing_resistant).toBe(0);
        } else {
          outcomes.policyWon += 1;
          expect({ round, removal }).toEqual({ round, removal: 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION' });
          expect({ round, requireCodes }).toEqual({ round, requireCodes: delays.map(() => 'OK') });
          expect(user.phishing_resistant).toBe(1);
          expect(organization.requires_phishing_resistant).toBe(1);
        }
        expect(Number(organization.owners_without_phishing_resistant)).toBe(user.phishing_resistant ? 0 : 1);
        expect(Number(organization.owners_with_phishing_resistant)).toBe(user.phishing_resistant ? 2 : 1);
        await expectCountersExact(org);
      }
      expect(outcomes.policyWon + outcomes.removalWon).toBe(ROUNDS);
    });
  });
});
