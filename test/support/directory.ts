import type { TestApp } from './test-app';

/** Directory sync through the API, as the upstream system does it. */
export async function syncOrganization(
  t: TestApp,
  organizationId: string,
  members: Record<string, 'OWNER' | 'MEMBER'>,
  name = organizationId,
) {
  const token = await t.token('directory-sync', ['twofactor:directory']);
  const upsert = await t.gql(
    'mutation($id: ID!, $name: String!) { upsertOrganization(id: $id, name: $name) { id } }',
    { id: organizationId, name },
    token,
  );
  if (upsert.errors) throw new Error(JSON.stringify(upsert.errors));
  for (const [userId, role] of Object.entries(members)) {
    const result = await t.gql(
      'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }',
      { o: organizationId, u: userId, r: role },
      token,
    );
    if (result.errors) throw new Error(JSON.stringify(result.errors));
  }
}
