import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';

const EVENTS = `query($userId: ID, $organizationId: ID, $first: Int, $after: String) {
  auditEvents(userId: $userId, organizationId: $organizationId, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id action userId organizationId actorId reason clientIp occurredAt } }
  }
}`;

interface Filter {
  userId?: string;
  organizationId?: string;
}

describe('auditEvents', () => {
  let t: TestApp;
  let reader: string;
  const org = uniqueId('org');
  const otherOrg = uniqueId('other-org');
  const owner = uniqueId('owner');
  const member = uniqueId('member');
  const stranger = uniqueId('stranger');
  let resetAt: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    reader = await t.token('audit-reader', ['twofactor:read']);
    const ownerEnrolled = await enrollTotp(t, owner);
    await syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' });
    await syncOrganization(t, otherOrg, { [member]: 'OWNER', [stranger]: 'MEMBER' });
    await t.gql('mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }', { o: org }, ownerEnrolled.token);
    await enrollTotp(t, member);
    t.clock.advance(1234);
    resetAt = t.clock.now().toISOString();
    const reset = await t.gql(
      'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }',
      { u: member, r: 'Lost phone — verified by ticket #4711' },
      await t.token('support-agent', ['twofactor:admin']),
    );
    expect(reset.errors).toBeUndefined();
  });
  afterAll(() => t.close());

  /** What the database holds for a filter, newest first. */
  async function stored(filter: Filter): Promise<string[]> {
    const where = ['1 = 1'];
    const params: string[] = [];
    if (filter.userId !== undefined) {
      where.push('user_id = ?');
      params.push(filter.userId);
    }
    if (filter.organizationId !== undefined) {
      where.push('organization_id = ?');
      params.push(filter.organizationId);
    }
    const rows = await t.sql(`SELECT id FROM audit_events WHERE ${where.join(' AND ')} ORDER BY id DESC`, params);
    return rows.map((row) => String(row.id));
  }

  async function list(token: string, variables: Filter & { first?: number; after?: string | null } = {}) {
    const result = await t.gql(EVENTS, variables, token);
    expect(result.errors).toBeUndefined();
    return result.data.auditEvents;
  }

  /** Every page, following the cursors. */
  async function walk(token: string, filter: Filter, first: number): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const connection = await list(token, { ...filter, first, after });
      expect(connection.edges.length).toBeLessThanOrEqual(first);
      ids.push(...connection.edges.map((edge: any) => edge.node.id));
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
      if (!connection.pageInfo.hasNextPage) return ids;
      after = connection.pageInfo.endCursor;
    }
    throw new Error('too many pages');
  }

  it('needs a token', async () => {
    expect(errorCode(await t.gql(EVENTS, {}))).toBe('UNAUTHENTICATED');
  });

  describe('a user', () => {
    it('sees the events about itself by default, newest first', async () => {
      const token = await t.token(member);
      const connection = await list(token);
      const ids = connection.edges.map((edge: any) => edge.node.id);
      expect(ids).toEqual(await stored({ userId: member }));
      expect(ids.length).toBeGreaterThanOrEqual(4);
      expect(connection.edges.every((edge: any) => edge.node.userId === member)).toBe(true);
      expect((await list(token, { userId: member })).edges).toEqual(connection.edges);
      const actions = connection.edges.map((edge: any) => edge.node.action);
      expect(actions[0]).toBe('TWO_FACTOR_RESET_BY_ADMIN');
      expect(actions).toEqual(expect.arrayContaining(['TOTP_ENABLED', 'TWO_FACTOR_ENABLED', 'MEMBERSHIP_SET']));
    });

    it("sees each event in full, but another's address: the admin reset with its reason, actor and time", async () => {
      const connection = await list(await t.token(member), { first: 1 });
      const [{ node }] = connection.edges;
      expect(node).toEqual({
        id: expect.stringMatching(/^[1-9][0-9]*$/),
        action: 'TWO_FACTOR_RESET_BY_ADMIN',
        userId: member,
        organizationId: null,
        actorId: 'support-agent',
        reason: 'Lost phone — verified by ticket #4711',
        // The admin's address is the admin's: shown to twofactor:read only.
        clientIp: null,
        occurredAt: resetAt,
      });
      expect(connection.pageInfo.hasNextPage).toBe(true);
    });

    it('sees the address only on events that record its own action', async () => {
      const nodes = (await list(await t.token(member), { first: 100 })).edges.map((edge: any) => edge.node);
      const own = nodes.filter((node: any) => node.actorId === member);
      expect(own.map((node: any) => node.action)).toEqual(
        expect.arrayContaining(['TOTP_ENABLED', 'TWO_FACTOR_ENABLED']),
      );
      expect(own.every((node: any) => node.clientIp === '127.0.0.1')).toBe(true);
      const others = nodes.filter((node: any) => node.actorId !== member);
      expect(others.map((node: any) => node.action)).toEqual(
        expect.arrayContaining(['TWO_FACTOR_RESET_BY_ADMIN', 'MEMBERSHIP_SET']),
      );
      expect(others.every((node: any) => node.clientIp === null)).toBe(true);
    });

    it("sees its own events within an organization, but not another user's nor an organization's it does not own", async () => {
      const token = await t.token(member);
      const inOrg = await list(token, { userId: member, organizationId: org });
      expect(inOrg.edges.map((edge: any) => edge.node.id)).toEqual(
        await stored({ userId: member, organizationId: org }),
      );
      expect(inOrg.edges.map((edge: any) => edge.node.action)).toEqual(['MEMBERSHIP_SET']);
      expect(errorCode(await t.gql(EVENTS, { userId: owner }, token))).toBe('FORBIDDEN');
      expect(errorCode(await t.gql(EVENTS, { organizationId: org }, token))).toBe('FORBIDDEN');
      expect(errorCode(await t.gql(EVENTS, { userId: owner, organizationId: org }, token))).toBe('FORBIDDEN');
    });

    it('a stranger with no events: an empty list; anything else FORBIDDEN', async () => {
      const token = await t.token(uniqueId('nobody'));
      expect(await list(token)).toEqual({ pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
      expect(errorCode(await t.gql(EVENTS, { userId: member }, token))).toBe('FORBIDDEN');
      expect(errorCode(await t.gql(EVENTS, { organizationId: org }, token))).toBe('FORBIDDEN');
      expect(errorCode(await t.gql(EVENTS, { organizationId: uniqueId('missing') }, token))).toBe('FORBIDDEN');
    });

    it('twofactor:admin reads audit events only with twofactor:read too (scopes add up)', async () => {
      const admin = await t.token('support-agent', ['twofactor:admin']);
      expect(errorCode(await t.gql(EVENTS, { userId: member }, admin))).toBe('FORBIDDEN');
      const both = await t.token('support-agent', ['twofactor:admin', 'twofactor:read']);
      const events = await list(both, { userId: member, first: 100 });
      expect(events.edges.map((edge: any) => edge.node.id)).toEqual(await stored({ userId: member }));
      expect(events.edges.every((edge: any) => edge.node.clientIp === '127.0.0.1')).toBe(true);
    });

    it('other scopes than twofactor:read see no more than a user', async () => {
      for (const scope of ['twofactor:admin', 'twofactor:directory', 'twofactor:login']) {
        const token = await t.token('some-service', [scope]);
        expect((await list(token)).edges).toEqual([]);
        expect(errorCode(await t.gql(EVENTS, { userId: member }, token))).toBe('FORBIDDEN');
        expect(errorCode(await t.gql(EVENTS, { organizationId: org }, token))).toBe('FORBIDDEN');
      }
    });
  });

  describe('an owner', () => {
    it("sees its organization's events, also those about one member", async () => {
      const token = await t.token(owner);
      const connection = await list(token, { organizationId: org });
      expect(connection.edges.map((edge: any) => edge.node.id)).toEqual(await stored({ organizationId: org }));
      expect(connection.edges.every((edge: any) => edge.node.organizationId === org)).toBe(true);
      const required = connection.edges.find((edge: any) => edge.node.action === 'ORGANIZATION_REQUIRED_TWO_FACTOR');
      expect(required.node).toMatchObject({ organizationId: org, actorId: owner, userId: null });
      const aboutMember = await list(token, { organizationId: org, userId: member });
      expect(aboutMember.edges.map((edge: any) => edge.node.id)).toEqual(
        await stored({ organizationId: org, userId: member }),
      );
    });

    it("does not see a member's own events, nor another organization's", async () => {
      const token = await t.token(owner);
      expect(errorCode(await t.gql(EVENTS, { userId: member }, token))).toBe('FORBIDDEN');
      expect(errorCode(await t.gql(EVENTS, { organizationId: otherOrg }, token))).toBe('FORBIDDEN');
      // A member of an organization, not its owner.
      expect(errorCode(await t.gql(EVENTS, { organizationId: otherOrg }, await t.token(stranger)))).toBe('FORBIDDEN');
    });

    it("sees the address on its own actions in its organization's events (its policy change), on no one else's", async () => {
      const nodes = (await list(await t.token(owner), { organizationId: org })).edges.map((edge: any) => edge.node);
      expect(nodes.map((node: any) => node.actorId)).toEqual(expect.arrayContaining([owner, 'directory-sync']));
      const own = nodes.filter((node: any) => node.actorId === owner);
      expect(own.map((node: any) => node.action)).toEqual(['ORGANIZATION_REQUIRED_TWO_FACTOR']);
      expect(own.map((node: any) => node.clientIp)).toEqual(['127.0.0.1']);
      // The directory sync's events hold its address; the owner sees null there.
      const others = nodes.filter((node: any) => node.actorId !== owner);
      const storedIps = await t.sql('SELECT client_ip FROM audit_events WHERE id IN (?)', [
        others.map((node: any) => node.id),
      ]);
      expect(storedIps.map((row) => row.client_ip)).toContain('127.0.0.1');
      expect(others.every((node: any) => node.clientIp === null)).toBe(true);
      // Its own action seen through a filter on a member's events stays its own; the member's actions are not.
      const aboutMember = (await list(await t.token(owner), { organizationId: org, userId: member })).edges;
      expect(aboutMember.every((edge: any) => edge.node.actorId === owner || edge.node.clientIp === null)).toBe(true);
    });

    it("of an organization re-created with a deleted one's id, sees only the new organization's events", async () => {
      const reused = uniqueId('reused');
      const [oldOwner, newOwner] = [uniqueId('old-owner'), uniqueId('new-owner')];
      await syncOrganization(t, reused, { [oldOwner]: 'OWNER', [member]: 'MEMBER' });
      const directory = await t.token('directory-sync', ['twofactor:directory']);
      expect(
        (await t.gql('mutation($id: ID!) { deleteOrganization(id: $id) }', { id: reused }, directory)).data
          .deleteOrganization,
      ).toBe(true);
      const deleted = await stored({ organizationId: reused });
      // Re-created at the same instant: the service's time cannot tell the two apart.
      await syncOrganization(t, reused, { [newOwner]: 'OWNER', [oldOwner]: 'OWNER' });
      const all = await stored({ organizationId: reused });
      const current = all.filter((id) => !deleted.includes(id));
      expect(current.length).toBe(3);
      for (const owner of [newOwner, oldOwner]) {
        const token = await t.token(owner);
        expect(
          (await list(token, { organizationId: reused, first: 100 })).edges.map((edge: any) => edge.node.id),
        ).toEqual(current);
        expect(await walk(token, { organizationId: reused }, 1)).toEqual(current);
        expect((await list(token, { organizationId: reused, userId: member })).edges).toEqual([]);
      }
      // twofactor:read still sees both; a member still sees its own events of the old one.
      expect(
        (await list(reader, { organizationId: reused, first: 100 })).edges.map((edge: any) => edge.node.id),
      ).toEqual(all);
      expect(
        (await list(await t.token(member), { organizationId: reused, userId: member })).edges.map(
          (edge: any) => edge.node.action,
        ),
      ).toEqual(['MEMBERSHIP_SET']);
    });

    it('stops seeing them once no longer an owner', async () => {
      const formerOwner = uniqueId('former');
      const orgOfFormer = uniqueId('org');
      await syncOrganization(t, orgOfFormer, { [formerOwner]: 'OWNER' });
      const token = await t.token(formerOwner);
      expect((await list(token, { organizationId: orgOfFormer })).edges.length).toBeGreaterThan(0);
      await syncOrganization(t, orgOfFormer, { [formerOwner]: 'MEMBER' });
      expect(errorCode(await t.gql(EVENTS, { organizationId: orgOfFormer }, token))).toBe('FORBIDDEN');
    });
  });

  describe('twofactor:read', () => {
    it('sees every address', async () => {
      const nodes = (await list(reader, { userId: member, first: 100 })).edges.map((edge: any) => edge.node);
      expect(nodes.some((node: any) => node.actorId !== member)).toBe(true);
      expect(nodes.every((node: any) => node.clientIp === '127.0.0.1')).toBe(true);
    });

    it('sees all events, with or without filters', async () => {
      const all = await list(reader, { first: 100 });
      expect(all.edges.map((edge: any) => edge.node.id)).toEqual((await stored({})).slice(0, 100));
      for (const filter of [
        { userId: member },
        { userId: owner },
        { organizationId: org },
        { organizationId: otherOrg, userId: stranger },
      ]) {
        expect((await list(reader, { ...filter, first: 100 })).edges.map((edge: any) => edge.node.id)).toEqual(
          await stored(filter),
        );
      }
    });
  });

  describe('paging', () => {
    it.each<[string, Filter, number]>([
      ['all, by 3', {}, 3],
      ['an organization, by 2', { organizationId: org }, 2],
      ['a user, by 1', { userId: member }, 1],
    ])('%s: every event once, newest first', async (_name, filter, first) => {
      const ids = await walk(reader, filter, first);
      expect(ids).toEqual(await stored(filter));
      expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((a, b) => b - a));
    });

    it("a user's default list pages the same as its explicit one", async () => {
      const token = await t.token(member);
      expect(await walk(token, {}, 2)).toEqual(await stored({ userId: member }));
    });

    it('refuses a cursor from another list or filter, or a forged one, with BAD_USER_INPUT', async () => {
      const page = await list(reader, { organizationId: org, first: 1 });
      const cursor = page.pageInfo.endCursor;
      expect((await list(reader, { organizationId: org, first: 1, after: cursor })).edges).toHaveLength(1);
      const misuses: [string, Record<string, unknown>][] = [
        ['no filter', { after: cursor }],
        ['another organization', { organizationId: otherOrg, after: cursor }],
        ['a user filter', { userId: member, after: cursor }],
        ['both filters', { organizationId: org, userId: member, after: cursor }],
        ['garbage', { after: 'garbage' }],
        ['not base64url', { after: '%%%' }],
        ['an empty string', { after: '' }],
        ['very long', { after: 'a'.repeat(5000) }],
      ];
      for (const [name, variables] of misuses) {
        expect({ name, code: errorCode(await t.gql(EVENTS, variables, reader)) }).toEqual({
          name,
          code: 'BAD_USER_INPUT',
        });
      }
      // The owner's cursor for its organization works for the owner, not for another list of the owner.
      const ownerToken = await t.token(owner);
      const ownerCursor = (await list(ownerToken, { organizationId: org, first: 1 })).pageInfo.endCursor;
      expect(errorCode(await t.gql(EVENTS, { after: ownerCursor }, ownerToken))).toBe('BAD_USER_INPUT');
    });

    it.each([[0], [101], [-5]])('refuses first: %p with BAD_USER_INPUT', async (first) => {
      expect(errorCode(await t.gql(EVENTS, { first }, reader))).toBe('BAD_USER_INPUT');
    });

    it('refuses malformed ids with BAD_USER_INPUT', async () => {
      expect(errorCode(await t.gql(EVENTS, { userId: 'has space' }, reader))).toBe('BAD_USER_INPUT');
      expect(errorCode(await t.gql(EVENTS, { organizationId: 'x'.repeat(129) }, reader))).toBe('BAD_USER_INPUT');
    });
  });
});
