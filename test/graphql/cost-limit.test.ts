import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { buildSchema, GraphQLError, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { costLimitPlugin } from '../../src/graphql/document-limits';

// The real computation, which a test may replace once.
jest.mock('graphql-query-complexity', () => {
  const actual = jest.requireActual('graphql-query-complexity');
  return { ...actual, getComplexity: jest.fn(actual.getComplexity) };
});
const computeOnce = (implementation: () => number) =>
  (getComplexity as jest.Mock).mockImplementationOnce(implementation);

const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8'));
const QUERY = 'query($ids: [ID!]!) { users(ids: $ids) { id } }';

/** Runs the plugin's check as Apollo would once the operation is resolved. */
async function check(warn: jest.Mock, variables: Record<string, unknown>): Promise<void> {
  const document = parse(QUERY);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  const plugin = costLimitPlugin(5_000, false, warn);
  const listener = await plugin.requestDidStart!({} as never);
  await listener!.didResolveOperation!({
    request: { query: QUERY, variables },
    document,
    operation,
    operationName: null,
    schema,
  } as unknown as GraphQLRequestContextDidResolveOperation<never>);
}

describe('the cost limit when its cost cannot be computed', () => {
  it('refuses the document as a client error (fail closed) and logs why at warn, without its values', async () => {
    computeOnce(() => {
      throw new TypeError('Cannot read properties of undefined (reading "secret-value-7")');
    });
    const warn = jest.fn();
    const refused = await check(warn, { ids: ['secret-value-7'] }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(GraphQLError);
    expect((refused as GraphQLError).extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
      http: { status: 400 },
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(warn.mock.calls)).toMatch(/TypeError/);
    expect(JSON.stringify(warn.mock.calls)).not.toContain('secret-value-7');
  });

  it('refuses variables that do not coerce as BAD_USER_INPUT, before any cost is skipped', async () => {
    const warn = jest.fn();
    await expect(check(warn, { ids: 'not a list of ids but a string', extra: 1 })).resolves.toBeUndefined();
    await expect(check(warn, { ids: [{ no: 'id' }] })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    });
    await expect(check(warn, {})).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(warn).not.toHaveBeenCalled();
  });

  it('still refuses a cost over the limit and lets one within it through', async () => {
    const warn = jest.fn();
    await expect(check(warn, { ids: ['a', 'b'] })).resolves.toBeUndefined();
    computeOnce(() => 5_001);
    await expect(check(warn, { ids: ['a'] })).rejects.toMatchObject({
      message: expect.stringMatching(/costs 5001/),
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });
});
