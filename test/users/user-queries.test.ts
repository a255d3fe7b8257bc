import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';

const STATUS =
  'twoFactor { enabled locked methods totp { createdAt } sms { phoneNumberMasked } recoveryCodesRemaining enabledAt }';

describe('user queries', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('me: a user never seen before has no two-factor', async () => {
    const result = await t.gql(`{ me { id ${STATUS} memberships { role } } }`, {}, await t.token('newcomer'));
    expect(result.data.me).toEqual({
      id: 'newcomer',
      twoFactor: {
        enabled: false,
        locked: false,
        methods: [],
        totp: null,
        sms: null,
        recoveryCodesRemaining: 0,
        enabledAt: null,
      },
      memberships: [],
    });
  });

  it('user: the user itself, or twofactor:read', async () => {
    expect((await t.gql('{ user(id: "alice") { id } }', {}, await t.token('alice'))).data.user.id).toBe('alice');
    expect(errorCode(await t.gql('{ user(id: "bob") { id } }', {}, await t.token('alice')))).toBe('FORBIDDEN');
    expect((await t.gql('{ user(id: "bob") { id } }', {}, await t.token('svc', ['twofactor:read']))).data.user.id).toBe(
      'bob',
    );
  });

  it('users: at most 100 ids, in the order asked', async () => {
    const token = await t.token('svc', ['twofactor:read']);
    const ids = ['c', 'a', 'b', 'a'];
    expect(
      (
        await t.gql('query($ids: [ID!]!) { users(ids: $ids) { id twoFactor { enabled } } }', { ids }, token)
      ).data.users.map((u: { id: string }) => u.id),
    ).toEqual(ids);
    const tooMany = Array.from({ length: 101 }, (_, i) => `u${i}`);
    expect(errorCode(await t.gql('query($ids: [ID!]!) { users(ids: $ids) { id } }', { ids: tooMany }, token))).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      errorCode(await t.gql('query($ids: [ID!]!) { users(ids: $ids) { id } }', { ids: ['ok', 'not ok'] }, token)),
    ).toBe('BAD_USER_INPUT');
  });

  it("memberships: the user's own organizations with its role", async () => {
    const org = uniqueId('org');
    const user = uniqueId('user');
    await syncOrganization(t, org, { [user]: 'OWNER' }, 'Acme');
    const result = await t.gql(
      '{ me { memberships { role organization { id name requiresTwoFactor } } } }',
      {},
      await t.token(user),
    );
    expect(result.data.me.memberships).toEqual([
      { role: 'OWNER', organization: { id: org, name: 'Acme', requiresTwoFactor: false } },
    ]);
  });

  describe('what each caller sees of an organization', () => {
    const org = uniqueId('org');
    const owner = uniqueId('owner');
    const member = uniqueId('member');
    beforeAll(() => syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' }));
    const QUERY = 'query($id: ID!) { organization(id: $id) { id name requiresTwoFactor compliance { totalMembers } } }';

    it('a stranger: null, like an organization that does not exist', async () => {
      const stranger = await t.token('stranger');
      expect((await t.gql(QUERY, { id: org }, stranger)).data.organization).toBeNull();
      expect((await t.gql(QUERY, { id: 'no-such-org' }, stranger)).data.organization).toBeNull();
    });

    it('a member: id, name and policy; compliance null with FORBIDDEN', async () => {
      const result = await t.gql(QUERY, { id: org }, await t.token(member));
      expect(result.data.organization).toEqual({ id: org, name: org, requiresTwoFactor: false, compliance: null });
      expect(errorCode(result)).toBe('FORBIDDEN');
    });

    it('an owner: compliance and members, of each member only id, two-factor on and methods', async () => {
      const token = await t.token(owner);
      const result = await t.gql(
        'query($id: ID!) { organization(id: $id) { compliance { totalMembers } members { edges { node { role twoFactorEnabled user { id twoFactor { enabled methods } } } } } } }',
        { id: org },
        token,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data.organization.compliance.totalMembers).toBe(2);
      expect(result.data.organization.members.edges).toHaveLength(2);
      const denied = await t.gql(
        'query($id: ID!) { organization(id: $id) { members { edges { node { user { id memberships { role } } } } } } }',
        { id: org },
        token,
      );
      expect(errorCode(denied)).toBe('FORBIDDEN');
      const phones = await t.gql(
        'query($id: ID!) { organization(id: $id) { members { edges { node { user { twoFactor { sms { phoneNumberMasked } totp { createdAt } } } } } } } }',
        { id: org },
        token,
      );
      expect(
        phones.data.organization.members.edges.every(
          (edge: any) => edge.node.user.twoFactor.sms === null && edge.node.user.twoFactor.totp === null,
        ),
      ).toBe(true);
    });

    it('twofactor:read: everything', async () => {
      const result = await t.gql(QUERY, { id: org }, await t.token('svc', ['twofactor:read']));
      expect(result.data.organization.compliance.totalMembers).toBe(2);
    });
  });
});
