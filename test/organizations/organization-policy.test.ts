import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const REQUIRE =
  'mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { id requiresTwoFactor twoFactorRequiredSince gracePeriodEndsAt } }';
const STOP =
  'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id requiresTwoFactor twoFactorRequiredSince gracePeriodEndsAt } }';
const ACCESS =
  'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u) { allowed reason graceEndsAt } }';
const ORGANIZATION =
  'query($id: ID!) { organization(id: $id) { requiresTwoFactor twoFactorRequiredSince gracePeriodEndsAt } }';
const DISABLE = 'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }';
const REMOVE_TOTP = 'mutation($c: String!) { removeTotp(code: $c) { enabled } }';
const RESET =
  'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled locked methods recoveryCodesRemaining } }';
const DAY = 24 * 60 * 60 * 1000;

describe('organization two-factor policy', () => {
  let t: TestApp;
  let reader: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    reader = await t.token('policy-reader', ['twofactor:read']);
  });
  afterAll(() => t.close());

  const auditActions = async (organizationId: string) =>
    await t.sql(
      'SELECT action, actor_id, reason FROM audit_events WHERE organization_id = ? AND action LIKE ? ORDER BY id',
      [organizationId, 'ORGANIZATION_%_TWO_FACTOR'],
    );

  describe('who may change it', () => {
    const org = uniqueId('org');
    const owner = uniqueId('owner');
    const member = uniqueId('member');
    beforeAll(() => syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' }));

    it('needs a token', async () => {
      expect(errorCode(await t.gql(REQUIRE, { o: org }))).toBe('UNAUTHENTICATED');
      expect(errorCode(await t.gql(STOP, { o: org }))).toBe('UNAUTHENTICATED');
    });

    it('is FORBIDDEN alike for an organization that does not exist and for one the caller does not own', async () => {
      // Nobody learns which organization ids exist: the same error, word for word.
      const stranger = await t.token(uniqueId('stranger'));
      for (const mutation of [REQUIRE, STOP]) {
        const missing = await t.gql(mutation, { o: uniqueId('missing') }, await t.token(owner));
        const notOwned = await t.gql(mutation, { o: org }, stranger);
        expect(errorCode(missing)).toBe('FORBIDDEN');
        expect(missing.errors).toEqual(notOwned.errors);
        expect(missing.data).toBeNull();
      }
    });

    it.each([
      ['a member', () => member, []],
      ['a stranger', () => 'stranger', []],
      ['a twofactor:read caller', () => 'svc-reader', ['twofactor:read']],
      ['a twofactor:admin caller', () => 'svc-admin', ['twofactor:admin']],
      ['a twofactor:directory caller', () => 'directory-sync', ['twofactor:directory']],
    ])('is FORBIDDEN for %s', async (_name, subject, scopes) => {
      const token = await t.token(subject(), scopes);
      expect(errorCode(await t.gql(REQUIRE, { o: org }, token))).toBe('FORBIDDEN');
      expect(errorCode(await t.gql(STOP, { o: org }, token))).toBe('FORBIDDEN');
      expect(
        (await t.sql('SELECT requires_two_factor FROM organizations WHERE id = ?', [org]))[0].requires_two_factor,
      ).toBe(0);
    });

    it.each([[-1], [91], [1000]])('refuses gracePeriodDays %p with BAD_USER_INPUT', async (days) => {
      expect(errorCode(await t.gql(REQUIRE, { o: org, d: days }, await t.token(owner)))).toBe('BAD_USER_INPUT');
    });

    it('refuses a malformed organization id with BAD_USER_INPUT', async () => {
      expect(errorCode(await t.gql(REQUIRE, { o: 'no spaces allowed' }, await t.token(owner)))).toBe('BAD_USER_INPUT');
    });
  });

  describe('the owner precondition', () => {
    it('is refused with the ids of the owners without two-factor, and passes once every owner has it', async () => {
      const org = uniqueId('org');
      const [ownerA, ownerB] = [uniqueId('owner-a'), uniqueId('owner-b')].sort();
      const member = uniqueId('member');
      await syncOrganization(t, org, { [ownerA]: 'OWNER', [ownerB]: 'OWNER', [member]: 'MEMBER' });
      const tokenA = await t.token(ownerA);

      const refused = await t.gql(REQUIRE, { o: org }, tokenA);
      expect(errorCode(refused)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(refused.errors![0].extensions!.userIds).toEqual([ownerA, ownerB]);
      expect(refused.data).toBeNull();

      await enrollTotp(t, ownerA);
      const stillRefused = await t.gql(REQUIRE, { o: org }, tokenA);
      expect(errorCode(stillRefused)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(stillRefused.errors![0].extensions!.userIds).toEqual([ownerB]);
      expect((await t.gql(ORGANIZATION, { id: org }, reader)).data.organization.requiresTwoFactor).toBe(false);
      expect(await auditActions(org)).toEqual([]);

      // A member without two-factor does not block it: members are simply not compliant.
      await enrollTotp(t, ownerB);
      const now = t.clock.now().toISOString();
      const passed = await t.gql(REQUIRE, { o: org }, tokenA);
      expect(passed.errors).toBeUndefined();
      expect(passed.data.requireTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        twoFactorRequiredSince: now,
        gracePeriodEndsAt: null,
      });
      const [row] = await t.sql(
        'SELECT requires_two_factor, two_factor_required_since, grace_period_ends_at FROM organizations WHERE id = ?',
        [org],
      );
      expect(row.requires_two_factor).toBe(1);
      expect(new Date(row.two_factor_required_since).toISOString()).toBe(now);
      expect(row.grace_period_ends_at).toBeNull();
      expect(await auditActions(org)).toEqual([
        { action: 'ORGANIZATION_REQUIRED_TWO_FACTOR', actor_id: ownerA, reason: null },
      ]);
      const compliance = await t.gql(
        'query($id: ID!) { organization(id: $id) { compliance { ownersWithoutTwoFactor membersWithoutTwoFactor compliant } } }',
        { id: org },
        tokenA,
      );
      expect(compliance.data.organization.compliance).toEqual({
        ownersWithoutTwoFactor: 0,
        membersWithoutTwoFactor: 1,
        compliant: false,
      });
    });

    it('counts an owner added later without two-factor: the next call is refused again', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER' });
      expect((await t.gql(REQUIRE, { o: org }, owner.token)).errors).toBeUndefined();
      const late = uniqueId('late-owner');
      await syncOrganization(t, org, { [late]: 'OWNER' });
      const compliance = await t.gql(
        'query($id: ID!) { organization(id: $id) { compliance { ownersWithoutTwoFactor compliant } } }',
        { id: org },
        reader,
      );
      expect(compliance.data.organization.compliance).toEqual({ ownersWithoutTwoFactor: 1, compliant: false });
      const again = await t.gql(REQUIRE, { o: org }, owner.token);
      expect(errorCode(again)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(again.errors![0].extensions!.userIds).toEqual([late]);
      // Still required: the refusal changed nothing.
      expect((await t.gql(ORGANIZATION, { id: org }, reader)).data.organization.requiresTwoFactor).toBe(true);
    });
  });

  describe('requiring and no longer requiring', () => {
    it('on an organization that already requires it, sets the grace period anew (0 ends it now), audited', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = uniqueId('member');
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member]: 'MEMBER' });
      const since = t.clock.now().toISOString();
      expect((await t.gql(REQUIRE, { o: org, d: 0 }, owner.token)).data.requireTwoFactor.gracePeriodEndsAt).toBeNull();
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess.reason).toBe(
        'TWO_FACTOR_REQUIRED',
      );

      t.clock.advance(60_000);
      const endsAt = new Date(t.clock.now().getTime() + 30 * DAY).toISOString();
      const extended = await t.gql(REQUIRE, { o: org, d: 30 }, owner.token);
      expect(extended.errors).toBeUndefined();
      expect(extended.data.requireTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        twoFactorRequiredSince: since,
        gracePeriodEndsAt: endsAt,
      });
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess).toEqual({
        allowed: true,
        reason: 'GRACE_PERIOD',
        graceEndsAt: endsAt,
      });

      t.clock.advance(DAY);
      const shorter = new Date(t.clock.now().getTime() + 2 * DAY).toISOString();
      expect((await t.gql(REQUIRE, { o: org, d: 2 }, owner.token)).data.requireTwoFactor.gracePeriodEndsAt).toBe(
        shorter,
      );

      const ended = await t.gql(REQUIRE, { o: org, d: 0 }, owner.token);
      expect(ended.data.requireTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        twoFactorRequiredSince: since,
        gracePeriodEndsAt: null,
      });
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess).toEqual({
        allowed: false,
        reason: 'TWO_FACTOR_REQUIRED',
        graceEndsAt: null,
      });
      // Nothing left to end: no change, no event.
      expect((await t.gql(REQUIRE, { o: org, d: 0 }, owner.token)).errors).toBeUndefined();

      const events = await t.sql(
        'SELECT action, actor_id, reason FROM audit_events WHERE organization_id = ? AND action LIKE ? ORDER BY id',
        [org, 'ORGANIZATION_%'],
      );
      expect(events.filter((event) => event.action !== 'ORGANIZATION_UPSERTED')).toEqual([
        { action: 'ORGANIZATION_REQUIRED_TWO_FACTOR', actor_id: owner.userId, reason: null },
        { action: 'ORGANIZATION_GRACE_PERIOD_CHANGED', actor_id: owner.userId, reason: 'grace period of 30 days' },
        { action: 'ORGANIZATION_GRACE_PERIOD_CHANGED', actor_id: owner.userId, reason: 'grace period of 2 days' },
        { action: 'ORGANIZATION_GRACE_PERIOD_CHANGED', actor_id: owner.userId, reason: 'grace period ended' },
      ]);
    });

    it("holds the owners' precondition every time, also when it is already required", async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER' });
      expect((await t.gql(REQUIRE, { o: org, d: 14 }, owner.token)).errors).toBeUndefined();
      const graceEndsAt = (await t.gql(ORGANIZATION, { id: org }, reader)).data.organization.gracePeriodEndsAt;
      const late = uniqueId('late-owner');
      await syncOrganization(t, org, { [late]: 'OWNER' });
      const refused = await t.gql(REQUIRE, { o: org, d: 0 }, owner.token);
      expect(errorCode(refused)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(refused.errors![0].extensions!.userIds).toEqual([late]);
      // The refusal changed nothing: the grace period still runs.
      expect((await t.gql(ORGANIZATION, { id: org }, reader)).data.organization).toMatchObject({
        requiresTwoFactor: true,
        gracePeriodEndsAt: graceEndsAt,
      });
      expect((await auditActions(org)).map((event) => event.action)).toEqual(['ORGANIZATION_REQUIRED_TWO_FACTOR']);
    });

    it('stopRequiringTwoFactor undoes it, audited once', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = uniqueId('member');
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member]: 'MEMBER' });
      expect(
        (await t.gql(REQUIRE, { o: org, d: 14 }, owner.token)).data.requireTwoFactor.gracePeriodEndsAt,
      ).not.toBeNull();
      expect(errorCode(await t.gql(STOP, { o: org }, await t.token(member)))).toBe('FORBIDDEN');
      const stopped = await t.gql(STOP, { o: org }, owner.token);
      expect(stopped.data.stopRequiringTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: false,
        twoFactorRequiredSince: null,
        gracePeriodEndsAt: null,
      });
      const [row] = await t.sql(
        'SELECT requires_two_factor, two_factor_required_since, grace_period_ends_at FROM organizations WHERE id = ?',
        [org],
      );
      expect(row).toEqual({ requires_two_factor: 0, two_factor_required_since: null, grace_period_ends_at: null });
      expect((await t.gql(STOP, { o: org }, owner.token)).data.stopRequiringTwoFactor.requiresTwoFactor).toBe(false);
      const events = await auditActions(org);
      expect(events).toEqual([
        { action: 'ORGANIZATION_REQUIRED_TWO_FACTOR', actor_id: owner.userId, reason: 'grace period of 14 days' },
        { action: 'ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR', actor_id: owner.userId, reason: null },
      ]);
      // Nothing is required any more: the member may do as it likes.
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess).toEqual({
        allowed: true,
        reason: 'OK',
        graceEndsAt: null,
      });
    });
  });

  describe('grace periods', () => {
    it('allows members without two-factor until the grace period ends, then refuses them', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = uniqueId('member');
      const enrolled = await enrollTotp(t, uniqueId('enrolled'));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member]: 'MEMBER', [enrolled.userId]: 'MEMBER' });
      const start = t.clock.now();
      const endsAt = new Date(start.getTime() + 7 * DAY).toISOString();
      const required = await t.gql(REQUIRE, { o: org, d: 7 }, owner.token);
      expect(required.data.requireTwoFactor).toEqual({
        id: org,
        requiresTwoFactor: true,
        twoFactorRequiredSince: start.toISOString(),
        gracePeriodEndsAt: endsAt,
      });

      const grace = { allowed: true, reason: 'GRACE_PERIOD', graceEndsAt: endsAt };
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess).toEqual(grace);
      expect((await t.gql(ACCESS, { o: org, u: enrolled.userId }, reader)).data.organizationAccess).toEqual({
        allowed: true,
        reason: 'OK',
        graceEndsAt: null,
      });

      t.clock.advance(7 * DAY - 1_000);
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess).toEqual(grace);
      expect((await t.gql(ORGANIZATION, { id: org }, await t.token(member))).data.organization.gracePeriodEndsAt).toBe(
        endsAt,
      );

      t.clock.advance(1_000);
      expect((await t.gql(ACCESS, { o: org, u: member }, reader)).data.organizationAccess).toEqual({
        allowed: false,
        reason: 'TWO_FACTOR_REQUIRED',
        graceEndsAt: null,
      });
      expect((await t.gql(ACCESS, { o: org, u: enrolled.userId }, reader)).data.organizationAccess.reason).toBe('OK');
      expect((await t.gql(ORGANIZATION, { id: org }, await t.token(member))).data.organization).toEqual({
        requiresTwoFactor: true,
        twoFactorRequiredSince: start.toISOString(),
        gracePeriodEndsAt: null,
      });
    });

    it('accepts the bounds 0 and 90 days', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER' });
      const ninety = await t.gql(REQUIRE, { o: org, d: 90 }, owner.token);
      expect(ninety.data.requireTwoFactor.gracePeriodEndsAt).toBe(
        new Date(t.clock.now().getTime() + 90 * DAY).toISOString(),
      );
      await t.gql(STOP, { o: org }, owner.token);
      expect((await t.gql(REQUIRE, { o: org, d: 0 }, owner.token)).data.requireTwoFactor.gracePeriodEndsAt).toBeNull();
    });
  });

  describe('members of an organization that requires two-factor', () => {
    it('cannot remove their last factor (TWO_FACTOR_REQUIRED_BY_ORGANIZATION), while an admin reset still works and unlocks', async () => {
      const [orgA, orgB, orgC] = [uniqueId('org-a'), uniqueId('org-b'), uniqueId('org-c')].sort();
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = await enrollTotp(t, uniqueId('member'));
      await syncOrganization(t, orgA, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
      await syncOrganization(t, orgB, { [owner.userId]: 'OWNER', [member.userId]: 'OWNER' });
      await syncOrganization(t, orgC, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
      for (const org of [orgB, orgA]) expect((await t.gql(REQUIRE, { o: org }, owner.token)).errors).toBeUndefined();

      for (const mutation of [DISABLE, REMOVE_TOTP]) {
        for (const code of [member.recoveryCodes[0], currentTotp(t, member.secret)]) {
          const refused = await t.gql(mutation, { c: code }, member.token);
          expect(errorCode(refused)).toBe('TWO_FACTOR_REQUIRED_BY_ORGANIZATION');
          expect(refused.errors![0].extensions!.organizationIds).toEqual([orgA, orgB]);
        }
      }
      const status = await t.gql('{ me { twoFactor { enabled methods recoveryCodesRemaining } } }', {}, member.token);
      expect(status.data.me.twoFactor).toEqual({ enabled: true, methods: ['TOTP'], recoveryCodesRemaining: 10 });

      // Locked after too many failures: TOTP codes are refused.
      await t.sql('UPDATE users SET failed_attempts_in_row = 100 WHERE id = ?', [member.userId]);
      nextStep(t);
      expect(
        errorCode(
          await t.gql(
            'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }',
            { c: currentTotp(t, member.secret) },
            member.token,
          ),
        ),
      ).toBe('TWO_FACTOR_LOCKED');

      const admin = await t.token('support-agent', ['twofactor:admin']);
      const reset = await t.gql(RESET, { u: member.userId, r: 'lost phone, identity verified by ticket 4711' }, admin);
      expect(reset.errors).toBeUndefined();
      expect(reset.data.resetTwoFactor).toEqual({
        enabled: false,
        locked: false,
        methods: [],
        recoveryCodesRemaining: 0,
      });
      for (const org of [orgA, orgB]) {
        expect((await t.gql(ACCESS, { o: org, u: member.userId }, reader)).data.organizationAccess).toEqual({
          allowed: false,
          reason: 'TWO_FACTOR_REQUIRED',
          graceEndsAt: null,
        });
      }
      expect((await t.gql(ACCESS, { o: orgC, u: member.userId }, reader)).data.organizationAccess.reason).toBe('OK');

      // The member sets two-factor up again, and is let in again.
      const again = await enrollTotp(t, member.userId);
      expect(again.recoveryCodes).toHaveLength(10);
      expect((await t.gql(ACCESS, { o: orgA, u: member.userId }, reader)).data.organizationAccess.reason).toBe('OK');
    });

    it('can remove their last factor once no organization of theirs requires it', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = await enrollTotp(t, uniqueId('member'));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
      await t.gql(REQUIRE, { o: org }, owner.token);
      expect(errorCode(await t.gql(DISABLE, { c: member.recoveryCodes[0] }, member.token))).toBe(
        'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
      );
      await t.gql(STOP, { o: org }, owner.token);
      const removed = await t.gql(REMOVE_TOTP, { c: member.recoveryCodes[0] }, member.token);
      expect(removed.errors).toBeUndefined();
      expect(removed.data.removeTotp.enabled).toBe(false);
    });
  });
});
