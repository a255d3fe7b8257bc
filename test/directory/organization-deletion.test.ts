import { LIMITS } from '../../src/limits';
import { syncOrganization } from '../support/directory';
import { eventually } from '../support/eventually';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';

const MANY = LIMITS.purgeBatchSize * 2 + 123;

describe('deleting an organization', () => {
  let t: TestApp;
  let directory: string;
  let reader: string;
  beforeAll(async () => {
    t = await startTestApp();
    directory = await t.token('directory-sync', ['twofactor:directory']);
    reader = await t.token('internal', ['twofactor:read']);
  });
  afterAll(() => t.close());

  /** An organization with `count` members beside its owner, seeded in SQL as directory sync would leave it. */
  async function bigOrganization(id: string, count: number) {
    await syncOrganization(t, id, { [`${id}-owner`]: 'OWNER' });
    const rows = Array.from({ length: count }, (_, i) => [id, `${id}-m${i}`, 'MEMBER', 0, 0, new Date()]);
    for (let offset = 0; offset < rows.length; offset += 1_000) {
      await t.sql(
        'INSERT INTO memberships (organization_id, user_id, role, two_factor_enabled, phishing_resistant, created_at) VALUES ?',
        [rows.slice(offset, offset + 1_000)],
      );
    }
    await t.sql('UPDATE organizations SET members_without_two_factor = members_without_two_factor + ? WHERE id = ?', [
      count,
      id,
    ]);
  }
  const remaining = async (id: string) =>
    Number((await t.sql('SELECT COUNT(*) AS n FROM memberships WHERE organization_id = ?', [id]))[0].n);
  const access = (organizationId: string, userId: string) =>
    t.gql(
      'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u) { allowed reason } }',
      { o: organizationId, u: userId },
      reader,
    );

  it(`disappears from every read at once; its ${MANY} memberships go in the background, in batches`, async () => {
    const id = uniqueId('big');
    await bigOrganization(id, MANY);
    const deleted = await t.gql('mutation($id: ID!) { deleteOrganization(id: $id) }', { id }, directory);
    expect(deleted.data.deleteOrganization).toBe(true);
    expect(
      (await t.gql('query($id: ID!) { organization(id: $id) { id } }', { id }, reader)).data.organization,
    ).toBeNull();
    expect((await access(id, `${id}-m7`)).data.organizationAccess).toEqual({ allowed: false, reason: 'NOT_A_MEMBER' });
    await eventually(async () => (await remaining(id)) === 0);
    expect(await t.sql('SELECT * FROM organization_deletions WHERE organization_id = ?', [id])).toEqual([]);
  });

  it('resumes after a crash: a deletion left half done is finished by the next run', async () => {
    const id = uniqueId('crashed');
    await bigOrganization(id, 300);
    // As a crash leaves it: the organization gone, its memberships and its deletion record still there.
    await t.sql('DELETE FROM organizations WHERE id = ?', [id]);
    await t.sql('INSERT INTO organization_deletions (organization_id, deleted_at) VALUES (?, ?)', [id, new Date()]);
    await t.app.runBackgroundJobs();
    expect(await remaining(id)).toBe(0);
  });

  it('re-created under the same id right away, it has none of the old members', async () => {
    const id = uniqueId('again');
    await bigOrganization(id, 500);
    await t.gql('mutation($id: ID!) { deleteOrganization(id: $id) }', { id }, directory);
    await syncOrganization(t, id, { 'new-owner': 'OWNER' });
    const members = await t.gql(
      'query($id: ID!) { organization(id: $id) { members(first: 10) { totalCount edges { node { user { id } } } } } }',
      { id },
      reader,
    );
    expect(members.data.organization.members).toEqual({
      totalCount: 1,
      edges: [{ node: { user: { id: 'new-owner' } } }],
    });
    await t.app.runBackgroundJobs();
    expect(await remaining(id)).toBe(1);
  });
});

describe('audit retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUDIT_RETENTION_DAYS: '30' } });
  });
  afterAll(() => t.close());

  it('purges events older than AUDIT_RETENTION_DAYS in batches, keeps the rest', async () => {
    const userId = uniqueId('audited');
    const old = new Date(t.clock.now().getTime() - 31 * 86_400_000);
    const recent = new Date(t.clock.now().getTime() - 29 * 86_400_000);
    const rows = (when: Date, count: number) => Array.from({ length: count }, () => ['LOGIN_FAILED', userId, when]);
    await t.sql('INSERT INTO audit_events (action, user_id, occurred_at) VALUES ?', [
      rows(old, LIMITS.purgeBatchSize + 10),
    ]);
    await t.sql('INSERT INTO audit_events (action, user_id, occurred_at) VALUES ?', [rows(recent, 5)]);
    await t.app.runBackgroundJobs();
    const left = await t.sql('SELECT occurred_at FROM audit_events WHERE user_id = ?', [userId]);
    expect(left).toHaveLength(5);
  });
});
