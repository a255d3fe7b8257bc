import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, findBreakingChanges, printSchema } from 'graphql';
import { buildGraphQLSchema } from '../../src/graphql/schema';

const root = join(__dirname, '..', '..');
const contractPath = join(root, '..', 'shared', 'contract', 'schema.graphql');

describe('the schema', () => {
  it('committed in schema.graphql is the one the code builds', async () => {
    const committed = readFileSync(join(root, 'schema.graphql'), 'utf8').replace(/^#.*\n\n/, '');
    expect(committed.trim()).toBe(printSchema(await buildGraphQLSchema()).trim());
  });

  (existsSync(contractPath) ? it : it.skip)('is a non-breaking superset of the contract', async () => {
    const contract = buildSchema(readFileSync(contractPath, 'utf8'));
    expect(findBreakingChanges(contract, await buildGraphQLSchema()).map((change) => change.description)).toEqual([]);
  });
});
