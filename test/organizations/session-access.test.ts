import { syncOrganization } from '../support/directory';
import { webAuthnStandIn } from '../support/phishing-resistant';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';

const ACCESS =
  'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason graceEndsAt } }';
const REQUIRE = 'mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }';
const REQUIRE_PR =
  'mutation($o: ID!, $d: Int) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }';
const DAY = 24 * 60 * 60 * 1000;

const OK = { allowed: true, reason: 'OK', graceEndsAt: null };
const NOT_ACCEPTED = { allowed: false, reason: 'SESSION_FACTOR_NOT_ACCEPTED', graceEndsAt: null };
const TFA_REQUIRED = { allowed: false, reason: 'TWO_FACTOR_REQUIRED', graceEndsAt: null };
const PR_REQUIRED = { allowed: false, reason: 'PHISHING_RESISTANT_REQUIRED', graceEndsAt: null };
const NOT_A_MEMBER = { allowed: false, reason: 'NOT_A_MEMBER', graceEndsAt: null };

/** The amr values our own assertion carries (RFC 8176), and what else a login service may say. */
const SECOND_FACTORS = ['otp', 'sms', 'hwk', 'recovery', 'device'];
const NOT_A_SECOND_FACTOR = [[], ['pwd'], ['pwd', 'mfa'], ['pwd', 'user'], ['pwd', 'swk'], ['OTP'], ['pwd', 'kba']];

/**
 * organizationAccess(..., sessionAmr): access is judged for the sign-in the caller
 * acts in, not only for the user (contract README, "Enforcement", "Per sign-in").
 */
describe('organizationAccess judged per sign-in (sessionAmr)', () => {
  let t: TestApp;
  let reader: string;
  let webAuthn: ReturnType<typeof webAuthnStandIn>;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    reader = await t.token('access-checker', ['twofactor:read']);
    webAuthn = webAuthnStandIn(t.app, t.clock);
  });
  afterAll(() => t.close());

  const access = async (organizationId: string, userId: string, sessionAmr?: string[] | null) => {
    const result = await t.gql(ACCESS, { o: organizationId, u: userId, s: sessionAmr }, reader);
    expect(result.errors).toBeUndefined();
    return result.data.organizationAccess;
  };
  /** A user with TOTP and a (stand-in) WebAuthn credential. */
  const withKey = async (prefix: string) => {
    const user = await enrollTotp(t, uniqueId(prefix));
    await webAuthn.addFirstCredential(user.userId);
    return user;
  };

  describe('sessionAmr itself', () => {
    it.each([
      ['11 values', Array.from({ length: 11 }, (_, i) => `v${i}`)],
      ['an empty value', ['pwd', '']],
      ['a value of 33 characters', ['x'.repeat(33)]],
      ['a control character', ['otp\n']],
      ['a tab', ['o\tp']],
      ['DEL', ['otp\u007f']],
      ['a non-ASCII letter', ['otpé']],
      ['an emoji', ['🔑']],
    ])('refuses %s with BAD_USER_INPUT naming sessionAmr', async (_name, sessionAmr) => {
      const result = await t.gql(ACCESS, { o: 'org', u: 'someone', s: sessionAmr }, reader);
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(result.errors![0].extensions!.field).toBe('sessionAmr');
      expect(result.errors![0].message).toContain('10');
      expect(result.errors![0].message).toContain('32');
    });

    it('takes 10 values of 1 to 32 printable ASCII characters', async () => {
      const org = uniqueId('org');
      const member = uniqueId('member');
      await syncOrganization(t, org, { [member]: 'OWNER' });
      const ten = ['pwd', 'x'.repeat(32), 'a', '~!@#$%^&*()_+{}|:"<>?', 'otp', 'o', 'p', 'q', 'r', 's'];
      expect(await access(org, member, ten)).toEqual(OK);
    });

    it('an unknown organization or a stranger is NOT_A_MEMBER whatever the session', async () => {
      const org = uniqueId('org');
      await syncOrganization(t, org, { [uniqueId('owner')]: 'OWNER' });
      expect(await access(uniqueId('missing'), 'someone', ['pwd', 'hwk'])).toEqual(NOT_A_MEMBER);
      expect(await access(org, uniqueId('stranger'), ['pwd', 'otp'])).toEqual(NOT_A_MEMBER);
    });
  });

  it('no requirement: every session is OK', async () => {
    const org = uniqueId('org');
    const member = uniqueId('member');
    await syncOrganization(t, org, { [member]: 'MEMBER' });
    for (const sessionAmr of [undefined, null, [], ['pwd'], ['pwd', 'otp']]) {
      expect([sessionAmr, await access(org, member, sessionAmr)]).toEqual([sessionAmr, OK]);
    }
  });

  describe('an any-factor requirement', () => {
    const org = uniqueId('org');
    let withFactor: string;
    let keyOnly: string;
    let without: string;
    beforeAll(async () => {
      const owner = await enrollTotp(t, uniqueId('owner'));
      withFactor = (await enrollTotp(t, uniqueId('totp'))).userId;
      keyOnly = (await withKey('key')).userId;
      without = uniqueId('without');
      await syncOrganization(t, org, {
        [owner.userId]: 'OWNER',
        [withFactor]: 'MEMBER',
        [keyOnly]: 'MEMBER',
        [without]: 'MEMBER',
      });
      expect((await t.gql(REQUIRE, { o: org }, owner.token)).errors).toBeUndefined();
    });

    it('a session with any of our second factors is OK', async () => {
      for (const factor of SECOND_FACTORS) {
        expect([factor, await access(org, withFactor, ['pwd', factor])]).toEqual([factor, OK]);
        expect([factor, await access(org, keyOnly, [factor])]).toEqual([factor, OK]);
      }
    });

    it('a session without one is SESSION_FACTOR_NOT_ACCEPTED for a user who has a factor', async () => {
      for (const sessionAmr of NOT_A_SECOND_FACTOR) {
        expect([sessionAmr, await access(org, withFactor, sessionAmr)]).toEqual([sessionAmr, NOT_ACCEPTED]);
      }
    });

    it('without sessionAmr: as before (OK for a user with a factor)', async () => {
      expect(await access(org, withFactor)).toEqual(OK);
      expect(await access(org, withFactor, null)).toEqual(OK);
      expect(await access(org, keyOnly)).toEqual(OK);
    });

    it('a user with no factor gets the usual refusal whatever the session says', async () => {
      for (const sessionAmr of [undefined, ['pwd'], ['pwd', 'otp'], ['hwk'], ['mfa']]) {
        expect([sessionAmr, await access(org, without, sessionAmr)]).toEqual([sessionAmr, TFA_REQUIRED]);
      }
    });
  });

  describe('a phishing-resistant requirement', () => {
    const org = uniqueId('org');
    let owner: string;
    let keyMember: string;
    let totpMember: string;
    let without: string;
    beforeAll(async () => {
      const ownerUser = await withKey('owner');
      owner = ownerUser.userId;
      keyMember = (await withKey('key')).userId;
      totpMember = (await enrollTotp(t, uniqueId('totp'))).userId;
      without = uniqueId('without');
      await syncOrganization(t, org, {
        [owner]: 'OWNER',
        [keyMember]: 'MEMBER',
        [totpMember]: 'MEMBER',
        [without]: 'MEMBER',
      });
      expect((await t.gql(REQUIRE_PR, { o: org }, ownerUser.token)).errors).toBeUndefined();
    });

    it('a session signed in with a key is OK for a user who has one', async () => {
      expect(await access(org, keyMember, ['pwd', 'hwk'])).toEqual(OK);
      expect(await access(org, keyMember, ['pwd', 'hwk', 'user'])).toEqual(OK);
      expect(await access(org, owner, ['device', 'hwk'])).toEqual(OK);
    });

    it('mfa, otp, sms, recovery and a plain device never meet it: SESSION_FACTOR_NOT_ACCEPTED', async () => {
      for (const sessionAmr of [
        ...NOT_A_SECOND_FACTOR,
        ['pwd', 'otp'],
        ['pwd', 'sms'],
        ['pwd', 'recovery'],
        ['pwd', 'device'],
        ['pwd', 'mfa', 'otp', 'sms', 'recovery', 'device'],
      ]) {
        expect([sessionAmr, await access(org, keyMember, sessionAmr)]).toEqual([sessionAmr, NOT_ACCEPTED]);
      }
    });

    it('fails closed: without sessionAmr a member who has a key is SESSION_FACTOR_NOT_ACCEPTED', async () => {
      expect(await access(org, keyMember)).toEqual(NOT_ACCEPTED);
      expect(await access(org, keyMember, null)).toEqual(NOT_ACCEPTED);
      expect(await access(org, owner)).toEqual(NOT_ACCEPTED);
    });

    it('members without a key are judged as before, whatever the session claims', async () => {
      for (const sessionAmr of [undefined, ['pwd', 'otp'], ['pwd', 'hwk'], ['device', 'hwk']]) {
        expect([sessionAmr, await access(org, totpMember, sessionAmr)]).toEqual([sessionAmr, PR_REQUIRED]);
        expect([sessionAmr, await access(org, without, sessionAmr)]).toEqual([sessionAmr, PR_REQUIRED]);
      }
    });

    it('a grace period lets in members without a key, not a member with one who signed in without it', async () => {
      const graceOrg = uniqueId('org');
      const graceOwner = await withKey('owner');
      const member = await withKey('key');
      const totp = await enrollTotp(t, uniqueId('totp'));
      await syncOrganization(t, graceOrg, {
        [graceOwner.userId]: 'OWNER',
        [member.userId]: 'MEMBER',
        [totp.userId]: 'MEMBER',
      });
      const endsAt = new Date(t.clock.now().getTime() + 7 * DAY).toISOString();
      expect((await t.gql(REQUIRE_PR, { o: graceOrg, d: 7 }, graceOwner.token)).errors).toBeUndefined();
      const grace = { allowed: true, reason: 'GRACE_PERIOD', graceEndsAt: endsAt };
      expect(await access(graceOrg, totp.userId, ['pwd', 'otp'])).toEqual(grace);
      expect(await access(graceOrg, totp.userId)).toEqual(grace);
      expect(await access(graceOrg, member.userId, ['pwd', 'otp'])).toEqual(NOT_ACCEPTED);
      expect(await access(graceOrg, member.userId)).toEqual(NOT_ACCEPTED);
      expect(await access(graceOrg, member.userId, ['pwd', 'hwk'])).toEqual(OK);
    });

    it('follows the key at once: added, the member must sign in with it; relaxed to any factor, TOTP does again', async () => {
      const followOrg = uniqueId('org');
      const followOwner = await withKey('owner');
      const member = await enrollTotp(t, uniqueId('member'));
      await syncOrganization(t, followOrg, { [followOwner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
      expect((await t.gql(REQUIRE_PR, { o: followOrg }, followOwner.token)).errors).toBeUndefined();
      expect(await access(followOrg, member.userId, ['pwd', 'otp'])).toEqual(PR_REQUIRED);
      await webAuthn.addFirstCredential(member.userId);
      expect(await access(followOrg, member.userId, ['pwd', 'otp'])).toEqual(NOT_ACCEPTED);
      expect(await access(followOrg, member.userId, ['pwd', 'hwk'])).toEqual(OK);
      expect((await t.gql(REQUIRE, { o: followOrg }, followOwner.token)).errors).toBeUndefined();
      expect(await access(followOrg, member.userId, ['pwd', 'otp'])).toEqual(OK);
      expect(await access(followOrg, member.userId)).toEqual(OK);
    });
  });

  describe('identity-provider MFA (acceptsIdentityProviderMfa)', () => {
    const SET =
      'mutation($o: ID!, $a: Boolean!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: $a) { id acceptsIdentityProviderMfa } }';
    const IDP = { allowed: true, reason: 'IDENTITY_PROVIDER_MFA', graceEndsAt: null };
    const org = uniqueId('org');
    let owner: Awaited<ReturnType<typeof enrollTotp>>;
    let withFactor: string;
    let without: string;
    beforeAll(async () => {
      owner = await enrollTotp(t, uniqueId('owner'));
      withFactor = (await enrollTotp(t, uniqueId('totp'))).userId;
      without = uniqueId('without');
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [withFactor]: 'MEMBER', [without]: 'MEMBER' });
      expect((await t.gql(REQUIRE, { o: org }, owner.token)).errors).toBeUndefined();
    });
    const set = async (accepts: boolean, token = owner.token) => t.gql(SET, { o: org, a: accepts }, token);

    it('is off by default: "mfa" is no second factor of ours', async () => {
      const read = await t.gql(
        'query($o: ID!) { organization(id: $o) { acceptsIdentityProviderMfa } }',
        { o: org },
        reader,
      );
      expect(read.data.organization.acceptsIdentityProviderMfa).toBe(false);
      expect(await access(org, withFactor, ['pwd', 'mfa'])).toEqual(NOT_ACCEPTED);
      expect(await access(org, without, ['pwd', 'mfa'])).toEqual(TFA_REQUIRED);
    });

    it('only owners set it: anyone else is FORBIDDEN, and nothing changes', async () => {
      for (const token of [await t.token(withFactor), reader, await t.token(uniqueId('stranger'))]) {
        expect(errorCode(await set(true, token))).toBe('FORBIDDEN');
      }
      expect(errorCode(await t.gql(SET, { o: uniqueId('missing'), a: true }, owner.token))).toBe('FORBIDDEN');
      expect(await access(org, without, ['pwd', 'mfa'])).toEqual(TFA_REQUIRED);
    });

    it('accepted, "mfa" meets an any-factor requirement, even for a user with no factor here; audited once', async () => {
      const accepted = await set(true);
      expect(accepted.errors).toBeUndefined();
      expect(accepted.data.setAcceptsIdentityProviderMfa).toEqual({ id: org, acceptsIdentityProviderMfa: true });
      expect((await set(true)).errors).toBeUndefined();
      const audited = await t.sql(
        'SELECT action, actor_id FROM audit_events WHERE organization_id = ? AND action LIKE ?',
        [org, '%IDENTITY_PROVIDER_MFA'],
      );
      expect(audited).toEqual([{ action: 'ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA', actor_id: owner.userId }]);
      expect(await access(org, withFactor, ['pwd', 'mfa'])).toEqual(IDP);
      expect(await access(org, without, ['pwd', 'mfa'])).toEqual(IDP);
      expect(await access(org, without, ['mfa'])).toEqual(IDP);
      // Our own factor still reads as our own; without "mfa" nothing changes.
      expect(await access(org, withFactor, ['pwd', 'otp'])).toEqual(OK);
      expect(await access(org, withFactor, ['pwd'])).toEqual(NOT_ACCEPTED);
      expect(await access(org, without, ['pwd'])).toEqual(TFA_REQUIRED);
      // Without sessionAmr the caller says nothing of the identity provider: as before.
      expect(await access(org, withFactor)).toEqual(OK);
      expect(await access(org, without)).toEqual(TFA_REQUIRED);
    });

    it('never meets a phishing-resistant requirement', async () => {
      const prOrg = uniqueId('org');
      const prOwner = await withKey('owner');
      const keyMember = await withKey('key');
      const totpMember = await enrollTotp(t, uniqueId('totp'));
      await syncOrganization(t, prOrg, {
        [prOwner.userId]: 'OWNER',
        [keyMember.userId]: 'MEMBER',
        [totpMember.userId]: 'MEMBER',
      });
      expect((await t.gql(SET, { o: prOrg, a: true }, prOwner.token)).errors).toBeUndefined();
      expect((await t.gql(REQUIRE_PR, { o: prOrg }, prOwner.token)).errors).toBeUndefined();
      expect(await access(prOrg, keyMember.userId, ['pwd', 'mfa'])).toEqual(NOT_ACCEPTED);
      expect(await access(prOrg, totpMember.userId, ['pwd', 'mfa'])).toEqual(PR_REQUIRED);
      expect(await access(prOrg, uniqueId('nobody'), ['pwd', 'mfa'])).toEqual(NOT_A_MEMBER);
    });

    it('turned off again, "mfa" stops counting at once', async () => {
      expect((await set(false)).data.setAcceptsIdentityProviderMfa.acceptsIdentityProviderMfa).toBe(false);
      expect(await access(org, without, ['pwd', 'mfa'])).toEqual(TFA_REQUIRED);
      const audited = await t.sql(
        'SELECT action FROM audit_events WHERE organization_id = ? AND action LIKE ? ORDER BY id',
        [org, '%IDENTITY_PROVIDER_MFA'],
      );
      expect(audited.map((row) => row.action)).toEqual([
        'ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA',
        'ORGANIZATION_STOPPED_ACCEPTING_IDENTITY_PROVIDER_MFA',
      ]);
    });
  });
});
