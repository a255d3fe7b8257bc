import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';

const MEMBERS = `query($id: ID!, $first: Int, $after: String, $filter: MemberFilter) {
  organization(id: $id) {
    members(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { role twoFactorEnabled user { id twoFactor { enabled methods } } } }
    }
  }
}`;

type Role = 'OWNER' | 'MEMBER';
interface Filter {
  twoFactorEnabled?: boolean;
  role?: Role;
}

describe('organization members and compliance', () => {
  let t: TestApp;
  let reader: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    reader = await t.token('members-reader', ['twofactor:read']);
  });
  afterAll(() => t.close());

  describe('paging through members', () => {
    const org = uniqueId('org');
    const suffix = uniqueId('');
    // Mixed case: the order is byte order, so upper case sorts before lower case.
    const people: { id: string; role: Role; twoFactor: boolean }[] = [
      ['Zulu', 'OWNER', true],
      ['alpha', 'OWNER', false],
      ['Bravo', 'MEMBER', true],
      ['charlie', 'MEMBER', false],
      ['Delta', 'MEMBER', false],
      ['echo', 'MEMBER', true],
      ['Foxtrot', 'MEMBER', false],
      ['golf', 'OWNER', true],
      ['hotel', 'MEMBER', false],
      ['India', 'MEMBER', true],
      ['juliett', 'MEMBER', false],
    ].map(([name, role, twoFactor]) => ({
      id: `${name}${suffix}`,
      role: role as Role,
      twoFactor: twoFactor as boolean,
    }));
    let owner: string;

    beforeAll(async () => {
      for (const person of people.filter((p) => p.twoFactor)) await enrollTotp(t, person.id);
      await syncOrganization(t, org, Object.fromEntries(people.map((p) => [p.id, p.role])));
      owner = await t.token(people[0].id);
    });

    const expected = (filter: Filter) =>
      people
        .filter((p) => (filter.role ?? p.role) === p.role && (filter.twoFactorEnabled ?? p.twoFactor) === p.twoFactor)
        .map((p) => p.id)
        .sort();

    async function allPages(token: string, filter: Filter | undefined, first: number) {
      const ids: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const result = await t.gql(MEMBERS, { id: org, first, after, filter }, token);
        expect(result.errors).toBeUndefined();
        const connection = result.data.organization.members;
        expect(connection.totalCount).toBe(expected(filter ?? {}).length);
        expect(connection.edges.length).toBeLessThanOrEqual(first);
        for (const edge of connection.edges) {
          const person = people.find((p) => p.id === edge.node.user.id)!;
          expect(edge.node).toEqual({
            role: person.role,
            twoFactorEnabled: person.twoFactor,
            user: {
              id: person.id,
              twoFactor: { enabled: person.twoFactor, methods: person.twoFactor ? ['TOTP'] : [] },
            },
          });
          ids.push(person.id);
        }
        pages += 1;
        expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null);
        if (!connection.pageInfo.hasNextPage) break;
        after = connection.pageInfo.endCursor;
        expect(pages).toBeLessThan(20);
      }
      return { ids, pages };
    }

    it.each<[string, Filter | undefined]>([
      ['no filter', undefined],
      ['twoFactorEnabled: true', { twoFactorEnabled: true }],
      ['twoFactorEnabled: false', { twoFactorEnabled: false }],
      ['role: OWNER', { role: 'OWNER' }],
      ['role: MEMBER', { role: 'MEMBER' }],
      ['twoFactorEnabled: false, role: OWNER', { twoFactorEnabled: false, role: 'OWNER' }],
      ['twoFactorEnabled: true, role: MEMBER', { twoFactorEnabled: true, role: 'MEMBER' }],
    ])('%s: every match once, in byte order, across pages, with totalCount after the filter', async (_name, filter) => {
      const want = expected(filter ?? {});
      const { ids, pages } = await allPages(owner, filter, 3);
      expect(ids).toEqual(want);
      expect(pages).toBe(Math.max(1, Math.ceil(want.length / 3)));
      expect((await allPages(reader, filter, 100)).ids).toEqual(want);
    });

    it('an empty filter result: no edges, no next page, totalCount 0', async () => {
      const otherOrg = uniqueId('org');
      const only = uniqueId('only');
      await syncOrganization(t, otherOrg, { [only]: 'OWNER' });
      const result = await t.gql(MEMBERS, { id: otherOrg, filter: { role: 'MEMBER' } }, await t.token(only));
      expect(result.data.organization.members).toEqual({
        totalCount: 0,
        pageInfo: { hasNextPage: false, endCursor: null },
        edges: [],
      });
    });

    it('refuses a cursor from another filter, list or organization, and a forged one, with BAD_USER_INPUT', async () => {
      const first = await t.gql(MEMBERS, { id: org, first: 2, filter: { twoFactorEnabled: true } }, owner);
      const cursor: string = first.data.organization.members.pageInfo.endCursor;
      expect(
        (await t.gql(MEMBERS, { id: org, first: 2, after: cursor, filter: { twoFactorEnabled: true } }, owner)).errors,
      ).toBeUndefined();

      const misuses: [string, Record<string, unknown>][] = [
        ['another filter', { id: org, after: cursor, filter: { twoFactorEnabled: false } }],
        ['both filters', { id: org, after: cursor, filter: { twoFactorEnabled: true, role: 'MEMBER' } }],
        ['no filter', { id: org, after: cursor }],
        ['a role filter', { id: org, after: cursor, filter: { role: 'OWNER' } }],
        ['garbage', { id: org, after: 'not-a-cursor' }],
        ['base64 of something else', { id: org, after: Buffer.from('["members:x","y"]').toString('base64url') }],
        ['characters outside base64url', { id: org, after: '!!!' }],
      ];
      for (const [name, variables] of misuses) {
        expect({ name, code: errorCode(await t.gql(MEMBERS, variables, owner)) }).toEqual({
          name,
          code: 'BAD_USER_INPUT',
        });
      }
      // The same filter on another organization.
      const otherOrg = uniqueId('org');
      await syncOrganization(t, otherOrg, {});
      expect(
        errorCode(await t.gql(MEMBERS, { id: otherOrg, after: cursor, filter: { twoFactorEnabled: true } }, reader)),
      ).toBe('BAD_USER_INPUT');
      // A members cursor is no audit cursor.
      expect(
        errorCode(
          await t.gql('query($a: String) { auditEvents(after: $a) { edges { cursor } } }', { a: cursor }, reader),
        ),
      ).toBe('BAD_USER_INPUT');
    });

    it.each([[0], [101], [-1]])('refuses first: %p with BAD_USER_INPUT', async (first) => {
      expect(errorCode(await t.gql(MEMBERS, { id: org, first }, owner))).toBe('BAD_USER_INPUT');
    });

    it('accepts first: 1 and first: 100', async () => {
      expect((await t.gql(MEMBERS, { id: org, first: 1 }, owner)).data.organization.members.edges).toHaveLength(1);
      expect((await t.gql(MEMBERS, { id: org, first: 100 }, owner)).data.organization.members.edges).toHaveLength(
        people.length,
      );
    });
  });

  describe('who sees compliance and members', () => {
    const org = uniqueId('org');
    const owner = uniqueId('owner');
    const member = uniqueId('member');
    const QUERY = `query($id: ID!) { organization(id: $id) {
      id name requiresTwoFactor
      compliance { totalMembers membersWithTwoFactor membersWithoutTwoFactor ownersWithoutTwoFactor compliant }
      members { totalCount edges { node { role user { id } } } }
    } }`;
    beforeAll(async () => {
      await enrollTotp(t, owner);
      await syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' });
      await t.gql(
        'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }',
        { o: org },
        await t.token(owner),
      );
    });
    const compliance = {
      totalMembers: 2,
      membersWithTwoFactor: 1,
      membersWithoutTwoFactor: 1,
      ownersWithoutTwoFactor: 0,
      compliant: false,
    };

    it('a stranger, and an owner of another organization: null, as for an organization that does not exist', async () => {
      const otherOwner = uniqueId('other-owner');
      await syncOrganization(t, uniqueId('other-org'), { [otherOwner]: 'OWNER' });
      for (const token of [await t.token('stranger'), await t.token(otherOwner)]) {
        const result = await t.gql(QUERY, { id: org }, token);
        expect(result.data.organization).toBeNull();
        expect(result.errors).toBeUndefined();
      }
    });

    it('a member: id, name and policy; compliance and members null, each with FORBIDDEN', async () => {
      const result = await t.gql(QUERY, { id: org }, await t.token(member));
      expect(result.data.organization).toEqual({
        id: org,
        name: org,
        requiresTwoFactor: true,
        compliance: null,
        members: null,
      });
      expect(result.errors!.map((error) => [error.path!.at(-1), error.extensions!.code]).sort()).toEqual([
        ['compliance', 'FORBIDDEN'],
        ['members', 'FORBIDDEN'],
      ]);
    });

    it('an owner: compliance and members, of each member only id, role and twoFactor { enabled methods }', async () => {
      const token = await t.token(owner);
      const result = await t.gql(QUERY, { id: org }, token);
      expect(result.errors).toBeUndefined();
      expect(result.data.organization.compliance).toEqual(compliance);
      expect(result.data.organization.members.totalCount).toBe(2);
      for (const field of ['locked', 'recoveryCodesRemaining']) {
        const denied = await t.gql(
          `query($id: ID!) { organization(id: $id) { members { edges { node { user { twoFactor { ${field} } } } } } } }`,
          { id: org },
          token,
        );
        expect(errorCode(denied)).toBe('FORBIDDEN');
      }
      const hidden = await t.gql(
        'query($id: ID!) { organization(id: $id) { members { edges { node { user { twoFactor { totp { createdAt } sms { phoneNumberMasked } enabledAt } } } } } } }',
        { id: org },
        token,
      );
      expect(hidden.data.organization.members.edges.map((edge: any) => edge.node.user.twoFactor)).toEqual([
        { totp: null, sms: null, enabledAt: null },
        { totp: null, sms: null, enabledAt: null },
      ]);
      expect(
        errorCode(
          await t.gql(
            'query($id: ID!) { organization(id: $id) { members { edges { node { user { memberships { role } } } } } } }',
            { id: org },
            token,
          ),
        ),
      ).toBe('FORBIDDEN');
    });

    it('an owner reading her own member row is told where she reads her own status, not that only she may', async () => {
      const denied = await t.gql(
        'query($id: ID!) { organization(id: $id) { members(filter: { role: OWNER }) { edges { node { user { id twoFactor { locked } } } } } } }',
        { id: org },
        await t.token(owner),
      );
      expect(errorCode(denied)).toBe('FORBIDDEN');
      const message = denied.errors![0].message;
      expect(message).not.toContain(owner);
      expect(message).toContain('locked');
      expect(message).toMatch(/\bme\b/);
    });

    it('twofactor:read: everything, members in full', async () => {
      const result = await t.gql(QUERY, { id: org }, reader);
      expect(result.errors).toBeUndefined();
      expect(result.data.organization.compliance).toEqual(compliance);
      const full = await t.gql(
        'query($id: ID!) { organization(id: $id) { members { edges { node { user { id twoFactor { locked recoveryCodesRemaining totp { createdAt } } } } } } } }',
        { id: org },
        reader,
      );
      expect(full.errors).toBeUndefined();
      const ownerEdge = full.data.organization.members.edges.find((edge: any) => edge.node.user.id === owner);
      expect(ownerEdge.node.user.twoFactor.recoveryCodesRemaining).toBe(10);
      expect(ownerEdge.node.user.twoFactor.totp.createdAt).toEqual(expect.any(String));
    });

    it('compliance: compliant while nothing is required, or once every member has two-factor', async () => {
      await t.gql(
        'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }',
        { o: org },
        await t.token(owner),
      );
      expect((await t.gql(QUERY, { id: org }, reader)).data.organization.compliance).toEqual({
        ...compliance,
        compliant: true,
      });
      await t.gql(
        'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }',
        { o: org },
        await t.token(owner),
      );
      expect((await t.gql(QUERY, { id: org }, reader)).data.organization.compliance.compliant).toBe(false);
      await enrollTotp(t, member);
      expect((await t.gql(QUERY, { id: org }, reader)).data.organization.compliance).toEqual({
        totalMembers: 2,
        membersWithTwoFactor: 2,
        membersWithoutTwoFactor: 0,
        ownersWithoutTwoFactor: 0,
        compliant: true,
      });
    });
  });

  describe('cost of a page', () => {
    /** Counts the SQL statements the app sends while `work` runs (every query passes the DataSource's logger). */
    async function countStatements(work: () => Promise<void>): Promise<{ count: number; statements: string[] }> {
      const logger = t.app.database.dataSource.logger;
      const original = logger.logQuery;
      const statements: string[] = [];
      logger.logQuery = function (this: typeof logger, query, parameters, queryRunner) {
        statements.push(query);
        return original.call(this, query, parameters, queryRunner);
      };
      try {
        await work();
      } finally {
        logger.logQuery = original;
      }
      return { count: statements.length, statements };
    }

    async function organizationOf(size: number, enrolled: number) {
      const org = uniqueId(`org-${size}`);
      const owner = await enrollTotp(t, uniqueId('owner'));
      const members = Array.from({ length: size - 1 }, (_, i) => `${org}-member-${String(i).padStart(3, '0')}`);
      for (const id of members.slice(0, enrolled)) await enrollTotp(t, id);
      await syncOrganization(t, org, {
        [owner.userId]: 'OWNER',
        ...Object.fromEntries(members.map((id) => [id, 'MEMBER'])),
      });
      return { org, owner };
    }

    it('a 50-member page with user { twoFactor { enabled methods } } costs as many statements as a 10-member one', async () => {
      const small = await organizationOf(10, 2);
      const large = await organizationOf(50, 3);
      const QUERY =
        'query($id: ID!) { organization(id: $id) { members(first: 50) { totalCount edges { node { role twoFactorEnabled user { id twoFactor { enabled methods } } } } } } }';

      const measure = async (org: string, token: string, size: number) =>
        countStatements(async () => {
          const result = await t.gql(QUERY, { id: org }, token);
          expect(result.errors).toBeUndefined();
          expect(result.data.organization.members.edges).toHaveLength(size);
        });

      // As an owner (members seen in summary) and as twofactor:read (in full).
      for (const [smallToken, largeToken] of [
        [small.owner.token, large.owner.token],
        [reader, reader],
      ]) {
        const ten = await measure(small.org, smallToken, 10);
        const fifty = await measure(large.org, largeToken, 50);
        expect(fifty.count).toBe(ten.count);
        // The counting sees the statements: the page and a batch of statuses at least.
        expect(ten.count).toBeGreaterThanOrEqual(3);
        // The organization and the caller's membership, one page, and one batch of statuses (users, TOTP, SMS, recovery codes).
        expect(fifty.count).toBeLessThanOrEqual(8);
      }
    });
  });
});
