import { syncOrganization } from '../support/directory';
import { webAuthnStandIn } from '../support/phishing-resistant';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, type EnrolledUser } from '../support/two-factor';
import { createEndpoint, PRIVATE_WEBHOOKS, settled, WebhookReceiver } from '../support/webhook-receiver';

const GRANT = `mutation($o: ID!, $u: ID!, $until: DateTimeISO!, $reason: String!) {
  exemptFromTwoFactor(organizationId: $o, userId: $u, until: $until, reason: $reason) { userId reason grantedBy grantedAt endsAt }
}`;
const END = 'mutation($o: ID!, $u: ID!) { endTwoFactorExemption(organizationId: $o, userId: $u) }';
const LIST = `query($o: ID!, $first: Int, $after: String) { organization(id: $o) {
  twoFactorExemptions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { userId reason grantedBy grantedAt endsAt } } }
} }`;
const MEMBERS = `query($o: ID!) { organization(id: $o) {
  compliance { membersWithoutTwoFactor membersExempt }
  members(first: 100) { edges { node { user { id } role exemptUntil } } }
} }`;
const ACCESS =
  'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason graceEndsAt exemptUntil } }';
const REQUIRE = 'mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }';
const REQUIRE_PR =
  'mutation($o: ID!, $d: Int) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }';
const MY_MEMBERSHIPS = '{ me { memberships { organization { id } role exemptUntil } } }';
const DAY = 24 * 60 * 60 * 1000;

const REFUSED = { allowed: false, reason: 'TWO_FACTOR_REQUIRED', graceEndsAt: null, exemptUntil: null };

/**
 * Exemptions from an organization's two-factor requirement (contract README,
 * "Enforcement"): who may grant them and to whom, what access says while one is
 * in force, and every way one ends, each announced once.
 */
describe('exemptions from a two-factor requirement', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let reader: string;
  let directory: string;
  let webAuthn: ReturnType<typeof webAuthnStandIn>;

  beforeAll(async () => {
    // Background work only when a test runs it: the clock decides what is due, and the test when it runs.
    t = await startTestApp({
      env: { ...PRIVATE_WEBHOOKS, IP_ATTEMPTS_PER_MINUTE: '100000' },
      manualBackgroundWork: true,
    });
    receiver = await WebhookReceiver.start(() => 204);
    await createEndpoint(t, receiver.url);
    reader = await t.token('access-checker', ['twofactor:read']);
    directory = await t.token('directory-sync', ['twofactor:directory']);
    webAuthn = webAuthnStandIn(t.app, t.clock);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const at = (days: number) => new Date(t.clock.now().getTime() + days * DAY).toISOString();
  const access = async (o: string, u: string, s?: string[]) => {
    const result = await t.gql(ACCESS, { o, u, s }, reader);
    expect(result.errors).toBeUndefined();
    return result.data.organizationAccess;
  };
  const grant = (owner: EnrolledUser, o: string, u: string, until: string, reason = 'travelling without a phone') =>
    t.gql(GRANT, { o, u, until, reason }, owner.token);
  const ok = async <T = any>(result: Promise<{ data: T; errors?: unknown }>) => {
    const answer = await result;
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };
  /** An organization with an owner (TOTP) and members without two-factor, requiring any factor. */
  const requiringOrganization = async (members: string[] = [uniqueId('member')], graceDays = 0) => {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    await syncOrganization(t, org, {
      [owner.userId]: 'OWNER',
      ...Object.fromEntries(members.map((member) => [member, 'MEMBER' as const])),
    });
    await ok(t.gql(REQUIRE, { o: org, d: graceDays }, owner.token));
    return { org, owner, members };
  };
  /** The organization's audit events of an action, oldest first. */
  const audited = (org: string, action: string) =>
    t.sql('SELECT user_id, actor_id, reason FROM audit_events WHERE organization_id = ? AND action = ? ORDER BY id', [
      org,
      action,
    ]);
  /** Every event delivered so far about the organization, of a type. */
  const events = async (org: string, type: string) => {
    await settled(t);
    return receiver.ofType(type).filter((request) => request.event.data.organizationId === org);
  };

  describe('granting', () => {
    it('an owner exempts a member until a time, with a reason; audited, and sent without the reason', async () => {
      const { org, owner, members } = await requiringOrganization();
      const until = at(14);
      const granted = await ok(grant(owner, org, members[0], until, '  Lost phone; new one on its way  '));
      expect(granted.exemptFromTwoFactor).toEqual({
        userId: members[0],
        reason: 'Lost phone; new one on its way',
        grantedBy: owner.userId,
        grantedAt: t.clock.now().toISOString(),
        endsAt: until,
      });
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_GRANTED')).toEqual([
        { user_id: members[0], actor_id: owner.userId, reason: 'Lost phone; new one on its way' },
      ]);
      const [event] = await events(org, 'organization.exemption_granted');
      expect(event.event.data).toMatchObject({ organizationId: org, userId: members[0], exemptUntil: until });
      expect(event.body).not.toContain('Lost phone');
    });

    it('never an owner, so never oneself: BAD_USER_INPUT naming userId', async () => {
      const { org, owner } = await requiringOrganization();
      const other = await enrollTotp(t, uniqueId('owner'));
      await syncOrganization(t, org, { [other.userId]: 'OWNER' });
      for (const target of [owner.userId, other.userId]) {
        const refused = await grant(owner, org, target, at(1));
        expect(errorCode(refused)).toBe('BAD_USER_INPUT');
        expect(refused.errors![0].extensions!.field).toBe('userId');
      }
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_GRANTED')).toEqual([]);
    });

    it('only a member of the organization: BAD_USER_INPUT naming userId', async () => {
      const { org, owner } = await requiringOrganization();
      const refused = await grant(owner, org, uniqueId('stranger'), at(1));
      expect(errorCode(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors![0].extensions!.field).toBe('userId');
    });

    it('until later than now and at most 90 days ahead', async () => {
      const { org, owner, members } = await requiringOrganization();
      const now = t.clock.now().getTime();
      for (const until of [now, now - 1, now - DAY, now + 90 * DAY + 1, now + 365 * DAY]) {
        const refused = await grant(owner, org, members[0], new Date(until).toISOString());
        expect([new Date(until).toISOString(), errorCode(refused)]).toEqual([
          new Date(until).toISOString(),
          'BAD_USER_INPUT',
        ]);
        expect(refused.errors![0].extensions!.field).toBe('until');
      }
      await ok(grant(owner, org, members[0], new Date(now + 1).toISOString()));
      await ok(grant(owner, org, members[0], new Date(now + 90 * DAY).toISOString()));
      expect(refusedMessage(await grant(owner, org, members[0], at(91)))).toContain('90 days');
    });

    it('a plain-text reason of 1 to 500 characters', async () => {
      const { org, owner, members } = await requiringOrganization();
      for (const reason of ['', '   ', 'x'.repeat(501), 'a\u202Ebc', 'line\nbreak', '\u200B']) {
        const refused = await grant(owner, org, members[0], at(1), reason);
        expect([reason, errorCode(refused), refused.errors?.[0].extensions?.field]).toEqual([
          reason,
          'BAD_USER_INPUT',
          'reason',
        ]);
      }
      await ok(grant(owner, org, members[0], at(1), 'é'.repeat(500)));
    });

    it('only owners: a member, a twofactor:read caller, a stranger and an unknown organization are FORBIDDEN alike', async () => {
      const { org, members } = await requiringOrganization([uniqueId('member'), uniqueId('member')]);
      const member = await t.token(members[0]);
      const stranger = await t.token(uniqueId('stranger'));
      for (const [token, o] of [
        [member, org],
        [reader, org],
        [stranger, org],
        [stranger, uniqueId('missing')],
      ]) {
        const until = at(1);
        expect(errorCode(await t.gql(GRANT, { o, u: members[1], until, reason: 'r' }, token))).toBe('FORBIDDEN');
        expect(errorCode(await t.gql(END, { o, u: members[1] }, token))).toBe('FORBIDDEN');
      }
    });

    it('granting again replaces the exemption', async () => {
      const { org, owner, members } = await requiringOrganization();
      await ok(grant(owner, org, members[0], at(3), 'first'));
      await ok(grant(owner, org, members[0], at(10), 'second'));
      const list = await ok(t.gql(LIST, { o: org }, owner.token));
      expect(list.organization.twoFactorExemptions.totalCount).toBe(1);
      expect(list.organization.twoFactorExemptions.edges[0].node).toMatchObject({ reason: 'second', endsAt: at(10) });
      expect((await access(org, members[0])).exemptUntil).toBe(at(10));
    });
  });

  describe('access while it runs', () => {
    it('EXEMPT, allowed until exemptUntil, where it would be TWO_FACTOR_REQUIRED; whatever the session says', async () => {
      const { org, owner, members } = await requiringOrganization();
      expect(await access(org, members[0])).toEqual(REFUSED);
      const until = at(5);
      await ok(grant(owner, org, members[0], until));
      const exempt = { allowed: true, reason: 'EXEMPT', graceEndsAt: null, exemptUntil: until };
      for (const sessionAmr of [undefined, ['pwd'], ['pwd', 'otp'], ['mfa']]) {
        expect([sessionAmr, await access(org, members[0], sessionAmr)]).toEqual([sessionAmr, exempt]);
      }
    });

    it('EXEMPT comes before GRACE_PERIOD', async () => {
      const { org, owner, members } = await requiringOrganization([uniqueId('member')], 7);
      expect((await access(org, members[0])).reason).toBe('GRACE_PERIOD');
      await ok(grant(owner, org, members[0], at(30)));
      expect(await access(org, members[0])).toEqual({
        allowed: true,
        reason: 'EXEMPT',
        graceEndsAt: null,
        exemptUntil: at(30),
      });
    });

    it('under a phishing-resistant requirement: EXEMPT for a member without a key; one with a key must sign in with it', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      await webAuthn.addFirstCredential(owner.userId);
      const totpOnly = await enrollTotp(t, uniqueId('totp'));
      const keyHolder = await enrollTotp(t, uniqueId('key'));
      await webAuthn.addFirstCredential(keyHolder.userId);
      await syncOrganization(t, org, {
        [owner.userId]: 'OWNER',
        [totpOnly.userId]: 'MEMBER',
        [keyHolder.userId]: 'MEMBER',
      });
      await ok(t.gql(REQUIRE_PR, { o: org }, owner.token));
      await ok(grant(owner, org, totpOnly.userId, at(2)));
      await ok(grant(owner, org, keyHolder.userId, at(2)));
      const exempt = { allowed: true, reason: 'EXEMPT', graceEndsAt: null, exemptUntil: at(2) };
      expect(await access(org, totpOnly.userId, ['pwd', 'otp'])).toEqual(exempt);
      expect(await access(org, totpOnly.userId)).toEqual(exempt);
      expect((await access(org, keyHolder.userId, ['pwd', 'otp'])).reason).toBe('SESSION_FACTOR_NOT_ACCEPTED');
      expect((await access(org, keyHolder.userId)).reason).toBe('SESSION_FACTOR_NOT_ACCEPTED');
      expect((await access(org, keyHolder.userId, ['pwd', 'hwk'])).reason).toBe('OK');
      // Compliance counts the exempt among those without a key: the one without.
      const read = await ok(
        t.gql('query($o: ID!) { organization(id: $o) { compliance { membersExempt } } }', { o: org }, owner.token),
      );
      expect(read.organization.compliance.membersExempt).toBe(1);
    });

    it('a member with an exemption still may not remove its last factor', async () => {
      const org = uniqueId('org');
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = await enrollTotp(t, uniqueId('member'));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
      await ok(t.gql(REQUIRE, { o: org }, owner.token));
      await ok(grant(owner, org, member.userId, at(5)));
      const disabled = await t.gql(
        'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
        { c: currentTotp(t, member.secret) },
        member.token,
      );
      expect(errorCode(disabled)).toBe('TWO_FACTOR_REQUIRED_BY_ORGANIZATION');
    });

    it('owners and twofactor:read see it in the list, on the member and in compliance; the member sees its own end', async () => {
      const exemptWithout = uniqueId('m1');
      const alsoWithout = uniqueId('m2');
      const { org, owner } = await requiringOrganization([exemptWithout, alsoWithout]);
      const withFactor = await enrollTotp(t, uniqueId('m3'));
      await syncOrganization(t, org, { [withFactor.userId]: 'MEMBER' });
      await ok(grant(owner, org, exemptWithout, at(9), 'later'));
      await ok(grant(owner, org, withFactor.userId, at(4), 'sooner'));
      for (const token of [owner.token, reader]) {
        const read = await ok(t.gql(MEMBERS, { o: org }, token));
        // The exempt member with a factor needs no exemption: not counted.
        expect(read.organization.compliance).toEqual({ membersWithoutTwoFactor: 2, membersExempt: 1 });
        const ends = Object.fromEntries(
          read.organization.members.edges.map((edge: any) => [edge.node.user.id, edge.node.exemptUntil]),
        );
        expect(ends).toEqual({
          [owner.userId]: null,
          [exemptWithout]: at(9),
          [alsoWithout]: null,
          [withFactor.userId]: at(4),
        });
      }
      const list = await ok(t.gql(LIST, { o: org, first: 1 }, owner.token));
      const first = list.organization.twoFactorExemptions;
      expect(first.totalCount).toBe(2);
      expect(first.edges.map((edge: any) => edge.node.userId)).toEqual([withFactor.userId]);
      expect(first.pageInfo.hasNextPage).toBe(true);
      const next = await ok(t.gql(LIST, { o: org, first: 1, after: first.pageInfo.endCursor }, owner.token));
      expect(next.organization.twoFactorExemptions.edges.map((edge: any) => edge.node)).toEqual([
        {
          userId: exemptWithout,
          reason: 'later',
          grantedBy: owner.userId,
          grantedAt: t.clock.now().toISOString(),
          endsAt: at(9),
        },
      ]);
      expect(next.organization.twoFactorExemptions.pageInfo.hasNextPage).toBe(false);

      // A member sees neither the list nor others' ends, only its own exemption among its memberships.
      const member = await t.token(exemptWithout);
      const asMember = await t.gql(LIST, { o: org }, member);
      expect(errorCode(asMember)).toBe('FORBIDDEN');
      expect(asMember.data.organization.twoFactorExemptions).toBeNull();
      const mine = await ok(t.gql(MY_MEMBERSHIPS, {}, member));
      expect(mine.me.memberships).toEqual([{ organization: { id: org }, role: 'MEMBER', exemptUntil: at(9) }]);
      const theirs = await ok(t.gql(MY_MEMBERSHIPS, {}, await t.token(alsoWithout)));
      expect(theirs.me.memberships).toEqual([{ organization: { id: org }, role: 'MEMBER', exemptUntil: null }]);
    });

    it('a cursor of another list is BAD_USER_INPUT', async () => {
      const { org, owner, members } = await requiringOrganization([uniqueId('a'), uniqueId('b')]);
      await ok(grant(owner, org, members[0], at(1)));
      await ok(grant(owner, org, members[1], at(2)));
      const other = await requiringOrganization();
      await ok(grant(other.owner, other.org, other.members[0], at(1)));
      const page = await ok(t.gql(LIST, { o: other.org, first: 1 }, other.owner.token));
      const foreign = page.organization.twoFactorExemptions.edges[0].cursor;
      for (const after of [
        foreign,
        'not-a-cursor',
        Buffer.from(JSON.stringify([`exemptions:${org}`, 'x'])).toString('base64url'),
      ]) {
        const result = await t.gql(LIST, { o: org, first: 1, after }, owner.token);
        expect([after, errorCode(result)]).toEqual([after, 'BAD_USER_INPUT']);
      }
    });
  });

  it('setAcceptsIdentityProviderMfa is sent as organization.policy_changed, once per change', async () => {
    const { org, owner } = await requiringOrganization();
    const SET =
      'mutation($o: ID!, $a: Boolean!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: $a) { acceptsIdentityProviderMfa } }';
    for (const accepts of [true, true, false]) await ok(t.gql(SET, { o: org, a: accepts }, owner.token));
    const changes = (await events(org, 'organization.policy_changed')).filter(
      (request) => request.event.data.change === 'identity_provider_mfa',
    );
    expect(changes.map((request) => request.event.data)).toEqual([
      expect.objectContaining({ actorId: owner.userId, acceptsIdentityProviderMfa: true, requiresTwoFactor: true }),
      expect.objectContaining({ actorId: owner.userId, acceptsIdentityProviderMfa: false, requiresTwoFactor: true }),
    ]);
  });

  describe('how it ends', () => {
    it('by itself at its time: every read at once, the event once from the background job', async () => {
      const { org, owner, members } = await requiringOrganization();
      const until = at(2);
      await ok(grant(owner, org, members[0], until));
      t.clock.set(new Date(Date.parse(until) - 1));
      expect((await access(org, members[0])).reason).toBe('EXEMPT');
      t.clock.set(new Date(until));
      // No job has run: reads compare with now.
      expect(await access(org, members[0])).toEqual(REFUSED);
      const read = await ok(t.gql(MEMBERS, { o: org }, owner.token));
      expect(read.organization.compliance.membersExempt).toBe(0);
      expect(read.organization.members.edges.map((edge: any) => edge.node.exemptUntil)).toEqual([null, null]);
      expect((await ok(t.gql(LIST, { o: org }, owner.token))).organization.twoFactorExemptions.totalCount).toBe(0);
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_ENDED')).toEqual([]);

      await t.app.runBackgroundJobs();
      await t.app.runBackgroundJobs();
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_ENDED')).toEqual([
        { user_id: members[0], actor_id: null, reason: 'ran out' },
      ]);
      const ended = await events(org, 'organization.exemption_ended');
      expect(ended.map((request) => request.event.data)).toEqual([
        expect.objectContaining({ userId: members[0], ended: 'expired', endedAt: until, actorId: null }),
      ]);
      expect(await t.sql('SELECT * FROM two_factor_exemptions WHERE organization_id = ?', [org])).toEqual([]);
    });

    it('by endTwoFactorExemption: true, then false when none is left', async () => {
      const { org, owner, members } = await requiringOrganization();
      await ok(grant(owner, org, members[0], at(3)));
      expect((await ok(t.gql(END, { o: org, u: members[0] }, owner.token))).endTwoFactorExemption).toBe(true);
      expect(await access(org, members[0])).toEqual(REFUSED);
      expect((await ok(t.gql(END, { o: org, u: members[0] }, owner.token))).endTwoFactorExemption).toBe(false);
      expect((await ok(t.gql(END, { o: org, u: uniqueId('nobody') }, owner.token))).endTwoFactorExemption).toBe(false);
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_ENDED')).toEqual([
        { user_id: members[0], actor_id: owner.userId, reason: 'ended by an owner' },
      ]);
      const ended = await events(org, 'organization.exemption_ended');
      expect(ended.map((request) => request.event.data.ended)).toEqual(['ended']);
    });

    it('when the member leaves, or becomes an owner; it does not come back with the membership', async () => {
      const { org, owner, members } = await requiringOrganization([uniqueId('leaver'), uniqueId('promoted')]);
      const [leaver, promoted] = members;
      await ok(grant(owner, org, leaver, at(3)));
      await ok(grant(owner, org, promoted, at(3)));
      await ok(
        t.gql(
          'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }',
          { o: org, u: leaver },
          directory,
        ),
      );
      await syncOrganization(t, org, { [promoted]: 'OWNER' });
      await syncOrganization(t, org, { [leaver]: 'MEMBER', [promoted]: 'MEMBER' });
      expect(await access(org, leaver)).toEqual(REFUSED);
      expect(await access(org, promoted)).toEqual(REFUSED);
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_ENDED')).toEqual([
        { user_id: leaver, actor_id: 'directory-sync', reason: 'the member left the organization' },
        { user_id: promoted, actor_id: 'directory-sync', reason: 'the member became an owner' },
      ]);
      const ended = await events(org, 'organization.exemption_ended');
      expect(ended.map((request) => [request.event.data.userId, request.event.data.ended])).toEqual([
        [leaver, 'left'],
        [promoted, 'became_owner'],
      ]);
    });

    it('when the user is deleted (its audit events keep only the ids)', async () => {
      const { org, owner, members } = await requiringOrganization();
      await ok(grant(owner, org, members[0], at(3)));
      await ok(t.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: members[0] }, directory));
      expect(await t.sql('SELECT * FROM two_factor_exemptions WHERE user_id = ?', [members[0]])).toEqual([]);
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_ENDED')).toEqual([
        { user_id: members[0], actor_id: 'directory-sync', reason: null },
      ]);
      const ended = await events(org, 'organization.exemption_ended');
      expect(ended.map((request) => [request.event.data.userId, request.event.data.ended])).toEqual([
        [members[0], 'left'],
      ]);
    });

    it('with a deleted organization, unannounced; an organization re-created under its id has none', async () => {
      const { org, owner, members } = await requiringOrganization();
      await ok(grant(owner, org, members[0], at(3)));
      await ok(t.gql('mutation($o: ID!) { deleteOrganization(id: $o) }', { o: org }, directory));
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [members[0]]: 'MEMBER' });
      expect(await t.sql('SELECT * FROM two_factor_exemptions WHERE organization_id = ?', [org])).toEqual([]);
      const list = await ok(t.gql(LIST, { o: org }, owner.token));
      expect(list.organization.twoFactorExemptions.totalCount).toBe(0);
      t.clock.advance(4 * DAY);
      await t.app.runBackgroundJobs();
      expect(await audited(org, 'TWO_FACTOR_EXEMPTION_ENDED')).toEqual([]);
    });
  });
});

const refusedMessage = (result: { errors?: { message: string }[] }) => result.errors?.[0]?.message ?? '';
