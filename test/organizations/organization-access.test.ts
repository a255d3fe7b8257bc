import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const ACCESS =
  'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u) { allowed reason graceEndsAt } }';
const REQUIRE =
  'mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { requiresTwoFactor } }';
const STOP = 'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { requiresTwoFactor } }';
const DISABLE = 'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }';
const REMOVE_MEMBERSHIP = 'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }';
const RESET = 'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }';

const OK = { allowed: true, reason: 'OK', graceEndsAt: null };
const REQUIRED = { allowed: false, reason: 'TWO_FACTOR_REQUIRED', graceEndsAt: null };
const NOT_A_MEMBER = { allowed: false, reason: 'NOT_A_MEMBER', graceEndsAt: null };

/**
 * organizationAccess is asked on every access: it must follow each change at once.
 * An allow that outlives the change that revoked it is a security bug.
 */
describe('organizationAccess follows every change at once', () => {
  let t: TestApp;
  let reader: string;
  let directory: string;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    reader = await t.token('access-checker', ['twofactor:read']);
    directory = await t.token('directory-sync', ['twofactor:directory']);
    admin = await t.token('support-agent', ['twofactor:admin']);
  });
  afterAll(() => t.close());

  const access = async (organizationId: string, userId: string) => {
    const result = await t.gql(ACCESS, { o: organizationId, u: userId }, reader);
    expect(result.errors).toBeUndefined();
    return result.data.organizationAccess;
  };

  it('needs twofactor:read', async () => {
    expect(errorCode(await t.gql(ACCESS, { o: 'org', u: 'someone' }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(ACCESS, { o: 'org', u: 'someone' }, await t.token('someone')))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(ACCESS, { o: 'org', u: 'someone' }, admin))).toBe('FORBIDDEN');
  });

  it('NOT_A_MEMBER for an unknown organization or a stranger', async () => {
    const org = uniqueId('org');
    await syncOrganization(t, org, { [uniqueId('owner')]: 'OWNER' });
    expect(await access(uniqueId('missing'), 'someone')).toEqual(NOT_A_MEMBER);
    expect(await access(org, uniqueId('stranger'))).toEqual(NOT_A_MEMBER);
  });

  it('policy on and off, members enrolling, disabling, removed, re-added and reset', async () => {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const member = uniqueId('member');
    await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member]: 'MEMBER' });

    // No policy: every member may.
    expect(await access(org, member)).toEqual(OK);
    expect(await access(org, owner.userId)).toEqual(OK);

    // Policy on.
    await t.gql(REQUIRE, { o: org }, owner.token);
    expect(await access(org, member)).toEqual(REQUIRED);
    expect(await access(org, owner.userId)).toEqual(OK);

    // The member enrolls TOTP.
    const enrolled = await enrollTotp(t, member);
    expect(await access(org, member)).toEqual(OK);

    // Policy off; the member disables two-factor: still fine while nothing is required.
    await t.gql(STOP, { o: org }, owner.token);
    expect(await access(org, member)).toEqual(OK);
    expect((await t.gql(DISABLE, { c: enrolled.recoveryCodes[0] }, enrolled.token)).data.disableTwoFactor.enabled).toBe(
      false,
    );
    expect(await access(org, member)).toEqual(OK);

    // Policy on again: the member without two-factor is refused at once.
    await t.gql(REQUIRE, { o: org }, owner.token);
    expect(await access(org, member)).toEqual(REQUIRED);

    // Removed from the organization, then added again.
    expect((await t.gql(REMOVE_MEMBERSHIP, { o: org, u: member }, directory)).data.removeMembership).toBe(true);
    expect(await access(org, member)).toEqual(NOT_A_MEMBER);
    await syncOrganization(t, org, { [member]: 'MEMBER' });
    expect(await access(org, member)).toEqual(REQUIRED);

    // Enrolled again, then reset by an admin.
    await enrollTotp(t, member);
    expect(await access(org, member)).toEqual(OK);
    expect((await t.gql(RESET, { u: member, r: 'lost device' }, admin)).data.resetTwoFactor.enabled).toBe(false);
    expect(await access(org, member)).toEqual(REQUIRED);

    // An owner reset by an admin while the policy is on: refused too (and not compliant).
    expect((await t.gql(RESET, { u: owner.userId, r: 'lost device' }, admin)).data.resetTwoFactor.enabled).toBe(false);
    expect(await access(org, owner.userId)).toEqual(REQUIRED);
    const compliance = await t.gql(
      'query($id: ID!) { organization(id: $id) { compliance { ownersWithoutTwoFactor membersWithoutTwoFactor compliant } } }',
      { id: org },
      reader,
    );
    expect(compliance.data.organization.compliance).toEqual({
      ownersWithoutTwoFactor: 1,
      membersWithoutTwoFactor: 2,
      compliant: false,
    });

    // The organization is deleted.
    expect(
      (await t.gql('mutation($id: ID!) { deleteOrganization(id: $id) }', { id: org }, directory)).data
        .deleteOrganization,
    ).toBe(true);
    expect(await access(org, member)).toEqual(NOT_A_MEMBER);
    expect(await access(org, owner.userId)).toEqual(NOT_A_MEMBER);
  });

  it('a member who removes the last factor with TOTP itself, then the grace period ending', async () => {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const member = await enrollTotp(t, uniqueId('member'));
    await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });

    nextStep(t);
    const removed = await t.gql(
      'mutation($c: String!) { removeTotp(code: $c) { enabled } }',
      { c: currentTotp(t, member.secret) },
      member.token,
    );
    expect(removed.data.removeTotp.enabled).toBe(false);
    expect(await access(org, member.userId)).toEqual(OK);

    const start = t.clock.now().getTime();
    await t.gql(REQUIRE, { o: org, d: 1 }, owner.token);
    const graceEndsAt = new Date(start + 24 * 60 * 60 * 1000).toISOString();
    expect(await access(org, member.userId)).toEqual({ allowed: true, reason: 'GRACE_PERIOD', graceEndsAt });
    t.clock.advance(24 * 60 * 60 * 1000);
    expect(await access(org, member.userId)).toEqual(REQUIRED);

    // A membership made later, without two-factor, after the grace period: refused.
    const late = uniqueId('late');
    await syncOrganization(t, org, { [late]: 'MEMBER' });
    expect(await access(org, late)).toEqual(REQUIRED);
  });
});
