import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  lexicographicSortSchema,
  printSchema,
  type GraphQLSchema,
} from 'graphql';
import { errorCode, startTestApp, type TestApp } from '../support/test-app';

/** What Apollo Sandbox, GraphQL Code Generator and IDE plugins send to load the schema (15 levels deep). */
const fullIntrospection = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
});
const committedSchema = buildSchema(
  readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8').replace(/^#.*\n\n/, ''),
);
// type-graphql orders root fields by the order its decorators ran (module load
// order), which differs between the service and the schema printer: compared sorted.
const printed = (schema: GraphQLSchema) => printSchema(lexicographicSortSchema(schema));
const deepMe =
  '{ me { memberships { organization { members { edges { node { user { memberships { organization { members { edges { node { user { id } } } } } } } } } } } } } }';
const aliases = (count: number) => Array.from({ length: count }, (_, i) => `a${i}: __typename`).join(' ');

describe('introspection while it is on', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token('introspector');
  });
  afterAll(() => t?.close());

  it("answers graphql-js's full introspection query with the committed schema", async () => {
    const result = await t.gql(fullIntrospection);
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(printed(buildClientSchema(result.data))).toBe(printed(committedSchema));
  });

  it('exempts introspection-only documents from the alias and root-field limits', async () => {
    const result = await t.gql(`{ ${aliases(16)} ...more } fragment more on Query { __schema { queryType { name } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data.a15).toBe('Query');
  });

  it('keeps every limit for a document mixing introspection with our fields', async () => {
    const mixed = fullIntrospection.replace('query IntrospectionQuery {', 'query IntrospectionQuery { me { id }');
    const deep = await t.gql(mixed, {}, token);
    expect(deep.status).toBe(400);
    expect(errorCode(deep)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(deep.errors![0].message).toMatch(/levels deep/);

    const throughFragment = await t.gql(
      `{ __schema { queryType { name } } ...f } fragment f on Query ${deepMe}`,
      {},
      token,
    );
    expect(errorCode(throughFragment)).toBe('GRAPHQL_VALIDATION_FAILED');

    const aliased = await t.gql(`{ ${aliases(8)} me { ${aliases(8)} } }`, {}, token);
    expect(errorCode(aliased)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(aliased.errors![0].message).toMatch(/aliases/);
  });

  it('refuses an introspection-only document that selects __schema more than once (aliases counted)', async () => {
    // The attack: ~16.8 KB of aliased __schema selections answered 3.8 MB for 0.5 s of CPU.
    const selection = 'types { name fields { name type { name } } }';
    const flood = `{ ${Array.from({ length: 270 }, (_, i) => `s${i}: __schema { ${selection} }`).join(' ')} }`;
    expect(flood.length).toBeGreaterThan(16_000);
    const result = await t.gql(flood);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.errors![0].message).toMatch(/__schema at most once/);
    expect(JSON.stringify(result.body).length).toBeLessThan(2_000);

    for (const twice of [
      '{ a: __schema { queryType { name } } b: __schema { queryType { name } } }',
      '{ ...S ...S } fragment S on Query { __schema { queryType { name } } }',
      '{ __schema { queryType { name } } ... on Query { __schema { mutationType { name } } } }',
    ]) {
      const refused = await t.gql(twice);
      expect(errorCode(refused)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(refused.errors![0].message).toMatch(/__schema at most once/);
    }
  });

  it('lets an introspection-only document select __type 10 times, not 11', async () => {
    const types = (count: number) =>
      `{ ${Array.from({ length: count }, (_, i) => `t${i}: __type(name: "Query") { name fields { name } }`).join(' ')} }`;
    const ten = await t.gql(types(10));
    expect(ten.errors).toBeUndefined();
    expect(ten.data.t9.name).toBe('Query');
    const eleven = await t.gql(types(11));
    expect(eleven.status).toBe(400);
    expect(errorCode(eleven)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(eleven.errors![0].message).toMatch(/__type at most 10 times/);
    const throughFragments = await t.gql(
      `{ ...T ...T } fragment T on Query { ${Array.from({ length: 6 }, (_, i) => `t${i}: __type(name: "Query") { name }`).join(' ')} }`,
    );
    expect(errorCode(throughFragments)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('still holds introspection to the token limit', async () => {
    const result = await t.gql(`{ __schema { types { ${'name '.repeat(6_000)} } } }`);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('introspection while it is off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { INTROSPECTION: 'false' } });
  });
  afterAll(() => t?.close());

  it('refuses the full query, naming the setting that turns it on', async () => {
    const result = await t.gql(fullIntrospection);
    expect(result.status).toBe(400);
    expect(errorCode(result)).toBe('GRAPHQL_VALIDATION_FAILED');
    const messages = result.errors!.map((error) => error.message).join('\n');
    expect(messages).toContain('INTROSPECTION=true');
    expect(messages).not.toMatch(/ApolloServer|introspection: true/);
  });

  it('keeps the limits for documents of __typename alone', async () => {
    expect(errorCode(await t.gql(`{ ${aliases(16)} }`))).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
