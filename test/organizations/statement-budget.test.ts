import { syncOrganization } from '../support/directory';
import { startTestApp, type TestApp } from '../support/test-app';

/** The SQL statements one request makes, counted at TypeORM's logger (every statement passes there). */
async function statementsOf(t: TestApp, request: () => Promise<unknown>): Promise<string[]> {
  const logger = t.app.database.dataSource.logger as { logQuery: (query: string, parameters?: unknown[]) => unknown };
  const original = logger.logQuery.bind(logger);
  const statements: string[] = [];
  logger.logQuery = (query, parameters) => {
    statements.push(query);
    return original(query, parameters);
  };
  try {
    await request();
  } finally {
    logger.logQuery = original;
  }
  return statements;
}

describe('the hot reads stay within their statement budget', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    await syncOrganization(t, 'budget-org', { 'budget-owner': 'OWNER', m1: 'MEMBER', m2: 'MEMBER' });
  });
  afterAll(() => t.close());

  const PAGE = `query($id: ID!) { organization(id: $id) {
    compliance { totalMembers membersWithoutTwoFactor }
    members(first: 50, filter: { twoFactorEnabled: false }) { totalCount edges { node { user { id } } } }
  } }`;

  it('the organization page (compliance and the first page of members): at most 3 statements', async () => {
    for (const token of [await t.token('internal', ['twofactor:read']), await t.token('budget-owner')]) {
      const statements = await statementsOf(t, () => t.gql(PAGE, { id: 'budget-org' }, token));
      expect(statements.length).toBeLessThanOrEqual(3);
    }
  });

  it('me { twoFactor }: one statement', async () => {
    const statements = await statementsOf(t, async () =>
      t.gql('{ me { twoFactor { enabled methods } } }', {}, await t.token('m1')),
    );
    expect(statements).toHaveLength(1);
  });

  it('organizationAccess: one statement', async () => {
    const reader = await t.token('internal', ['twofactor:read']);
    const statements = await statementsOf(t, () =>
      t.gql('{ organizationAccess(organizationId: "budget-org", userId: "m1") { allowed reason } }', {}, reader),
    );
    expect(statements).toHaveLength(1);
  });

  it('organizationAccess with the session amr: the same one statement', async () => {
    const reader = await t.token('internal', ['twofactor:read']);
    const statements = await statementsOf(t, () =>
      t.gql(
        '{ organizationAccess(organizationId: "budget-org", userId: "m1", sessionAmr: ["pwd", "hwk"]) { allowed reason } }',
        {},
        reader,
      ),
    );
    expect(statements).toHaveLength(1);
  });
});
