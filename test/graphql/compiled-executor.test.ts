import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { buildSchema, GraphQLError } from 'graphql';
import pino from 'pino';
import { Registry } from 'prom-client';
import { AppError } from '../../src/errors';
import { compiledExecutorGateway } from '../../src/graphql/compiled-executor';
import { createErrorFormatter } from '../../src/graphql/format-error';

/**
 * The compiled executor behind Apollo, beside graphql-js behind Apollo, on a small
 * schema whose resolvers fail in every way a resolver can: each answer (status
 * and body) must be the same. The service's own operations are compared over
 * HTTP in executor-parity.test.ts.
 */

const schema = buildSchema(`
  type Query {
    ok: String
    appError: String
    appErrorNonNull: String!
    plainError: String
    thrownString: String
    nullInNonNull: String!
    badInt: Int
    items(fail: [Int!]): [Item]
    strictItems(fail: [Int!]): [Item!]
    nested: Outer
    count(n: Int!): Int
    graphQLErrorWithCode: String
    filtered(filter: Filter): String
    withGetter: WithGetter
  }
  type WithGetter { fine: String broken: String }
  input Filter { role: String }
  type Outer { inner: Inner! other: String }
  type Inner { value: String! }
  type Item { id: Int! name: String! }
  type Mutation { fail: Boolean! make(name: String!): String! }
`);

const made: string[] = [];
const fields = schema.getQueryType()!.getFields();
fields.ok.resolve = () => 'fine';
fields.appError.resolve = () => {
  throw new AppError('FORBIDDEN', 'Not for you.', { field: 'appError' });
};
fields.appErrorNonNull.resolve = async () => {
  throw new AppError('NOT_FOUND', 'Nothing here.');
};
fields.plainError.resolve = () => {
  throw new Error('a driver said something');
};
fields.thrownString.resolve = () => {
  throw 'boom';
};
fields.nullInNonNull.resolve = () => null;
fields.badInt.resolve = () => 'not a number';
const items = async (_: unknown, { fail }: { fail?: number[] }) =>
  [1, 2, 3].map((id) => ({
    id,
    name: () => {
      if (fail?.includes(id)) throw new AppError('FORBIDDEN', `Not item ${id}.`);
      return `item ${id}`;
    },
  }));
fields.items.resolve = items;
fields.strictItems.resolve = items;
fields.nested.resolve = () => ({ inner: { value: null }, other: 'there' });
fields.count.resolve = (_: unknown, { n }: { n: number }) => n;
fields.graphQLErrorWithCode.resolve = () => {
  throw new GraphQLError('Coded.', { extensions: { code: 'BAD_USER_INPUT' } });
};
fields.filtered.resolve = (_: unknown, { filter }: { filter?: unknown }) => JSON.stringify(filter);
fields.withGetter.resolve = async () => ({
  fine: 'fine',
  get broken(): string {
    throw new AppError('NOT_FOUND', 'A getter threw.');
  },
});
const mutations = schema.getMutationType()!.getFields();
mutations.fail.resolve = () => {
  throw new AppError('BAD_USER_INPUT', 'No.');
};
mutations.make.resolve = (_: unknown, { name }: { name: string }) => {
  made.push(name);
  return name;
};

const logger = pino({ level: 'silent' });
const common = {
  // As the service: without cache control, Apollo wraps no field's resolver (fields without one stay so).
  plugins: [ApolloServerPluginCacheControlDisabled()],
  formatError: createErrorFormatter(logger, false),
  includeStacktraceInErrorResponses: false,
  logger,
};

describe('the compiled executor', () => {
  const registry = new Registry();
  const jit = new ApolloServer({
    ...common,
    gateway: compiledExecutorGateway(schema, { compiledDocuments: 10, compileAfterRequests: 1, registry }),
  });
  const graphqlJs = new ApolloServer({ ...common, schema });
  beforeAll(() => Promise.all([jit.start(), graphqlJs.start()]));
  afterAll(() => Promise.all([jit.stop(), graphqlJs.stop()]));

  const answer = async (
    server: ApolloServer,
    query: string,
    variables?: Record<string, unknown>,
    operationName?: string,
  ) => {
    const response = await server.executeOperation({ query, variables, operationName });
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return `${response.http.status ?? 200} ${JSON.stringify(response.body.singleResult)}`;
  };
  const ranByJit = async () =>
    (await registry.getSingleMetric('graphql_executions_total')!.get()).values.find(
      (value) => value.labels.executor === 'jit',
    )?.value ?? 0;

  it.each([
    ['a plain field', '{ ok }'],
    ['an AppError, with its extensions', '{ ok appError }'],
    ['an AppError in a non-null field (null reaches the root)', '{ ok appErrorNonNull }'],
    ['a plain Error (masked)', '{ plainError }'],
    ['a thrown string', '{ thrownString }'],
    ['null in a non-null field', '{ ok nullInNonNull }'],
    ['a value the scalar cannot serialize', '{ badInt }'],
    ['a GraphQLError with a code', '{ graphQLErrorWithCode }'],
    ['one failing item of a list', '{ items(fail: [2]) { id name } }'],
    ['one failing non-null item (the list becomes null)', '{ strictItems(fail: [2]) { id name } }'],
    ['several failing items (graphql-js runs it)', '{ items(fail: [1, 3]) { id name } }'],
    ['several failing non-null items (graphql-js runs it)', '{ strictItems(fail: [1, 2, 3]) { id name } }'],
    ['a non-null null deep down', '{ nested { other inner { value } } }'],
    // jit read a field without a resolver outside its try/catch: the getter's error escaped the request.
    ['a getter that throws, on a field without a resolver', '{ withGetter { fine broken } }'],
    [
      'aliases, fragments and __typename',
      '{ a: ok b: ok ... on Query { __typename } items { ...F } } fragment F on Item { id }',
    ],
  ])('answers %s as graphql-js does', async (_name, query) => {
    const before = await ranByJit();
    expect(await answer(jit, query)).toBe(await answer(graphqlJs, query));
    expect(await ranByJit()).toBeGreaterThanOrEqual(before);
  });

  it.each([
    ['a missing variable', 'query($n: Int!) { count(n: $n) }', {}],
    ['a variable of the wrong type', 'query($n: Int!) { count(n: $n) }', { n: 'x' }],
    ['an Int too large', 'query($n: Int!) { count(n: $n) }', { n: 2 ** 31 }],
    ['a float for an Int', 'query($n: Int!) { count(n: $n) }', { n: 1.5 }],
    ['several wrong variables', 'query($n: Int!, $m: Int!) { a: count(n: $n) b: count(n: $m) }', { n: true, m: [] }],
    ['a list where one item is wrong', 'query($f: [Int!]) { items(fail: $f) { id } }', { f: [1, null] }],
    ['a variable that coerces', 'query($n: Int!) { count(n: $n) }', { n: 7 }],
    // graphql-jit took an empty list for an input object (found by the bad-input suite's `members(filter: [])`).
    ['a list for an input object', 'query($f: Filter) { filtered(filter: $f) }', { f: [] }],
    ['an input object', 'query($f: Filter) { filtered(filter: $f) }', { f: { role: 'OWNER' } }],
  ])('refuses or takes %s as graphql-js does', async (_name, query, variables) => {
    expect(await answer(jit, query, variables)).toBe(await answer(graphqlJs, query, variables));
  });

  it('resolves the operation by name, or words its absence, as graphql-js does', async () => {
    const document = 'query A { ok } query B { count(n: 2) }';
    for (const name of ['A', 'B', 'C', undefined]) {
      expect(await answer(jit, document, undefined, name)).toBe(await answer(graphqlJs, document, undefined, name));
    }
  });

  it('runs queries compiled, and mutations with graphql-js (which stops at a failed root field)', async () => {
    const before = await ranByJit();
    await answer(jit, '{ ok }');
    expect(await ranByJit()).toBe(before + 1);
    made.length = 0;
    const mutation = 'mutation { fail make(name: "after") }';
    expect(await answer(jit, mutation)).toBe(await answer(graphqlJs, mutation));
    expect(made).toEqual([]);
    expect(await ranByJit()).toBe(before + 1);
  });
});

describe('compiling', () => {
  it('waits for a document to come back before compiling it, and keeps a bounded number', async () => {
    const registry = new Registry();
    const server = new ApolloServer({
      ...common,
      gateway: compiledExecutorGateway(schema, { compiledDocuments: 2, compileAfterRequests: 2, registry }),
    });
    await server.start();
    const ranByJit = async () =>
      (await registry.getSingleMetric('graphql_executions_total')!.get()).values.find(
        (value) => value.labels.executor === 'jit',
      )?.value ?? 0;
    try {
      const run = (query: string) => server.executeOperation({ query });
      await run('{ ok }');
      expect(await ranByJit()).toBe(0);
      await run('{ ok }');
      expect(await ranByJit()).toBe(1);
      // Two other documents push `{ ok }` out: it is counted afresh.
      await run('{ a: ok }');
      await run('{ b: ok }');
      await run('{ ok }');
      expect(await ranByJit()).toBe(1);
      await run('{ ok }');
      expect(await ranByJit()).toBe(2);
    } finally {
      await server.stop();
    }
  });
});
