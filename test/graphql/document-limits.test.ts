import { errorCode, startTestApp, type TestApp } from '../support/test-app';

describe('GraphQL document limits', () => {
  let t: TestApp;
  let reader: string;
  beforeAll(async () => {
    t = await startTestApp();
    reader = await t.token('svc', ['twofactor:read']);
  });
  afterAll(() => t?.close());

  it('refuses a query deeper than 10 levels before running it', async () => {
    const deep =
      '{ me { memberships { organization { members { edges { node { user { memberships { organization { members { edges { node { user { id } } } } } } } } } } } } } }';
    const result = await t.gql(deep, {}, reader);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors![0].message).toMatch(/levels deep/);
  });

  it('counts depth through fragments', async () => {
    const query =
      'query { me { ...a } } fragment a on User { memberships { organization { members { edges { node { user { memberships { organization { members { edges { node { user { id } } } } } } } } } } } } }';
    expect(errorCode(await t.gql(query, {}, reader))).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses fragments that spread each other exponentially, quickly and without a token', async () => {
    const fragments = Array.from({ length: 40 }, (_, i) =>
      i === 39 ? 'fragment f39 on Query { __typename }' : `fragment f${i} on Query { ...f${i + 1} ...f${i + 1} }`,
    );
    // 2^40 expansions if walked naively: the test's own timeout is the hang guard.
    const result = await t.gql(`query { ...f0 } ${fragments.join(' ')}`);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors![0].message).toMatch(/fields once fragments are expanded/);
  });

  it('refuses more than 15 aliases', async () => {
    const query = `{ me { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(' ')} } }`;
    const result = await t.gql(query, {}, reader);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors![0].message).toMatch(/aliases/);
  });

  it('refuses more than 10 root fields', async () => {
    const query = `{ ${Array.from({ length: 11 }, () => 'me { id }').join(' ')} }`;
    expect(errorCode(await t.gql(query, {}, reader))).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a query whose cost (lists multiplied by first or ids) is too high', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `u${i}`);
    const query =
      'query($ids: [ID!]!) { users(ids: $ids) { memberships { organization { members(first: 100) { edges { node { user { id } } } } } } } }';
    const result = await t.gql(query, { ids }, reader);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors![0].message).toMatch(/costs/);
  });

  it('counts the cost anew when the variables decide it, and refuses a fixed cost every time', async () => {
    const query =
      'query($ids: [ID!]!) { users(ids: $ids) { memberships { organization { members(first: 100) { edges { node { user { id } } } } } } } }';
    const few = await t.gql(query, { ids: ['u1'] }, reader);
    expect(few.errors).toBeUndefined();
    const many = await t.gql(query, { ids: Array.from({ length: 100 }, (_, i) => `u${i}`) }, reader);
    expect(errorCode(many)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await t.gql(query, { ids: ['u1'] }, reader)).errors).toBeUndefined();

    const ids = JSON.stringify(Array.from({ length: 100 }, (_, i) => `u${i}`));
    const fixed = `query Fixed($org: ID!) { organization(id: $org) { id } users(ids: ${ids}) { memberships { organization { members(first: 100) { edges { node { user { id } } } } } } } }`;
    for (let i = 0; i < 2; i += 1) {
      const result = await t.gql(fixed, { org: `org-${i}` }, reader);
      expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(result.errors![0].message).toMatch(/costs/);
    }
  });

  it('lets an owner-sized page through', async () => {
    const query =
      '{ organization(id: "none") { compliance { totalMembers } members(first: 100, filter: { twoFactorEnabled: false }) { totalCount edges { cursor node { role twoFactorEnabled user { id twoFactor { enabled methods } } } } pageInfo { hasNextPage endCursor } } } }';
    const result = await t.gql(query, {}, reader);
    expect(result.errors).toBeUndefined();
  });

  it('lets the largest audit page through', async () => {
    const query =
      '{ auditEvents(first: 100) { edges { cursor node { id action userId organizationId actorId reason clientIp occurredAt } } pageInfo { hasNextPage endCursor } } }';
    expect((await t.gql(query, {}, reader)).errors).toBeUndefined();
  });

  it('refuses a document of too many tokens while parsing', async () => {
    const query = `{ me { ${'id '.repeat(6_000)} } }`;
    const result = await t.gql(query, {}, reader);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe('GRAPHQL_PARSE_FAILED');
  });
});
