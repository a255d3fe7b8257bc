import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, findBreakingChanges, printSchema } from 'graphql';
import { buildGraphQLSchema } from '../../src/modules';

const root = join(__dirname, '..', '..');
const contractDir = join(root, '..', 'shared', 'contract');
const contractPath = join(contractDir, 'schema.graphql');
/** The contract's parts this service has built (check-schema.mjs --parts). */
const BUILT_PARTS = ['webauthn', 'trusted-devices', 'webhooks', 'enforcement'];

describe('the schema', () => {
  it('committed in schema.graphql is the one the code builds', async () => {
    const committed = readFileSync(join(root, 'schema.graphql'), 'utf8').replace(/^#.*\n\n/, '');
    expect(committed.trim()).toBe(printSchema(await buildGraphQLSchema()).trim());
  });

  (existsSync(contractPath) ? it : it.skip)(
    'is a non-breaking superset of the contract and its built parts',
    async () => {
      const sources = [contractPath, ...BUILT_PARTS.map((part) => join(contractDir, `${part}.graphql`))];
      const contract = buildSchema(sources.map((source) => readFileSync(source, 'utf8')).join('\n'));
      expect(findBreakingChanges(contract, await buildGraphQLSchema()).map((change) => change.description)).toEqual([]);
    },
  );
});
