import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';

const UPSERT =
  'mutation($id: ID!, $name: String!) { upsertOrganization(id: $id, name: $name) { id name requiresTwoFactor } }';
const SET =
  'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role organization { id name } } }';
const REMOVE = 'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }';
const COMPLIANCE =
  'query($id: ID!) { organization(id: $id) { compliance { totalMembers membersWithoutTwoFactor ownersWithoutTwoFactor } } }';

describe('directory sync', () => {
  let t: TestApp;
  let directory: string;
  let reader: string;
  beforeAll(async () => {
    t = await startTestApp();
    directory = await t.token('directory-sync', ['twofactor:directory']);
    reader = await t.token('compliance-service', ['twofactor:read']);
  });
  afterAll(() => t?.close());

  it('needs the twofactor:directory scope', async () => {
    const result = await t.gql(UPSERT, { id: 'acme', name: 'Acme' }, await t.token('alice'));
    expect(errorCode(result)).toBe('FORBIDDEN');
  });

  it('creates and renames an organization', async () => {
    const id = uniqueId('org');
    expect((await t.gql(UPSERT, { id, name: 'Acme' }, directory)).data.upsertOrganization).toEqual({
      id,
      name: 'Acme',
      requiresTwoFactor: false,
    });
    expect((await t.gql(UPSERT, { id, name: 'Acme Inc.' }, directory)).data.upsertOrganization.name).toBe('Acme Inc.');
  });

  it('sets, changes and removes memberships, keeping the counts', async () => {
    const id = uniqueId('org');
    await syncOrganization(t, id, { alice: 'OWNER', bob: 'MEMBER' });
    expect((await t.gql(COMPLIANCE, { id }, reader)).data.organization.compliance).toEqual({
      totalMembers: 2,
      membersWithoutTwoFactor: 2,
      ownersWithoutTwoFactor: 1,
    });
    expect((await t.gql(SET, { o: id, u: 'bob', r: 'OWNER' }, directory)).data.setMembership).toEqual({
      role: 'OWNER',
      organization: { id, name: id },
    });
    expect((await t.gql(COMPLIANCE, { id }, reader)).data.organization.compliance.ownersWithoutTwoFactor).toBe(2);
    expect((await t.gql(REMOVE, { o: id, u: 'bob' }, directory)).data.removeMembership).toBe(true);
    expect((await t.gql(REMOVE, { o: id, u: 'bob' }, directory)).data.removeMembership).toBe(false);
    expect((await t.gql(COMPLIANCE, { id }, reader)).data.organization.compliance).toEqual({
      totalMembers: 1,
      membersWithoutTwoFactor: 1,
      ownersWithoutTwoFactor: 1,
    });
  });

  it('keeps counts right when the same membership is set many times at once', async () => {
    const id = uniqueId('org');
    await syncOrganization(t, id, {});
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.gql(SET, { o: id, u: 'racer', r: i % 2 ? 'OWNER' : 'MEMBER' }, directory)),
    );
    const [row] = await t.sql(
      'SELECT owners_without_two_factor + members_without_two_factor AS total FROM organizations WHERE id = ?',
      [id],
    );
    expect(Number(row.total)).toBe(1);
  });

  it('refuses a membership in an unknown organization with NOT_FOUND', async () => {
    expect(errorCode(await t.gql(SET, { o: uniqueId('missing'), u: 'alice', r: 'OWNER' }, directory))).toBe(
      'NOT_FOUND',
    );
  });

  it('deletes an organization with its memberships; its audit events stay', async () => {
    const id = uniqueId('org');
    await syncOrganization(t, id, { alice: 'OWNER' });
    expect(
      (await t.gql('mutation($id: ID!) { deleteOrganization(id: $id) }', { id }, directory)).data.deleteOrganization,
    ).toBe(true);
    expect(
      (await t.gql('query($id: ID!) { organization(id: $id) { id } }', { id }, reader)).data.organization,
    ).toBeNull();
    expect(await t.sql('SELECT * FROM memberships WHERE organization_id = ?', [id])).toHaveLength(0);
    expect((await t.sql('SELECT * FROM audit_events WHERE organization_id = ?', [id])).length).toBeGreaterThan(0);
  });

  it('erases a user: memberships gone, counts lowered, audit events keep only the id', async () => {
    const id = uniqueId('org');
    const user = uniqueId('user');
    await syncOrganization(t, id, { [user]: 'OWNER', other: 'MEMBER' });
    expect((await t.gql('mutation($u: ID!) { deleteUser(userId: $u) }', { u: user }, directory)).data.deleteUser).toBe(
      true,
    );
    expect((await t.gql(COMPLIANCE, { id }, reader)).data.organization.compliance.totalMembers).toBe(1);
    expect(await t.sql('SELECT * FROM users WHERE id = ?', [user])).toHaveLength(0);
    const events = await t.sql('SELECT client_ip, reason FROM audit_events WHERE user_id = ? AND action <> ?', [
      user,
      'USER_DELETED',
    ]);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.client_ip === null && event.reason === null)).toBe(true);
  });

  it.each([
    ['an empty id', { id: '', name: 'x' }],
    ['an id with a space', { id: 'a b', name: 'x' }],
    ['an id of 129 characters', { id: 'a'.repeat(129), name: 'x' }],
    ['a non-ASCII id', { id: 'ácme', name: 'x' }],
    ['an empty name', { id: 'acme', name: '   ' }],
    ['a name with control characters', { id: 'acme', name: 'a\u0000b' }],
    ['a name with a right-to-left override', { id: 'acme', name: 'Acme\u202egnp.exe' }],
    ['a name with a zero-width space', { id: 'acme', name: 'Ac\u200bme' }],
    ['a name with a C1 control', { id: 'acme', name: 'Acme\u0085' }],
  ])('refuses %s with BAD_USER_INPUT', async (_name, variables) => {
    expect(errorCode(await t.gql(UPSERT, variables, directory))).toBe('BAD_USER_INPUT');
  });

  it('compares ids byte for byte', async () => {
    const id = uniqueId('Org');
    await syncOrganization(t, id, { Alice: 'OWNER', alice: 'MEMBER' });
    expect((await t.gql(COMPLIANCE, { id }, reader)).data.organization.compliance.totalMembers).toBe(2);
    expect((await t.gql(COMPLIANCE, { id: id.toLowerCase() }, reader)).data.organization).toBeNull();
  });
});
