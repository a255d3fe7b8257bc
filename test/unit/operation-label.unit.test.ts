import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { operationLabel } from '../../src/http/metrics';

const schema = buildSchema(readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8'));
const rootFields = [
  ...Object.keys(schema.getQueryType()!.getFields()),
  ...Object.keys(schema.getMutationType()!.getFields()),
];
const CLOSED = new Set([...rootFields, '__typename', '__schema', '__type', 'multiple', 'unknown']);

function labelsOf(source: string): string[] {
  const document = parse(source);
  return document.definitions
    .filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
    .map((definition) => operationLabel(definition, document, schema));
}

describe('the operation label of the GraphQL metrics', () => {
  it('is one root field of the schema, whatever names surround it', () => {
    expect(labelsOf('query Anything { me { id } }')).toEqual(['me']);
    expect(labelsOf('{ a: me { id } b: me { id } __typename }')).toEqual(['me']);
    expect(labelsOf('{ ...F } fragment F on Query { ... on Query { me { id } } }')).toEqual(['me']);
    expect(labelsOf('mutation Chosen { disableTwoFactor(code: "1") }')).toEqual(['disableTwoFactor']);
  });

  it('is `multiple` for several root fields and `unknown` for none the schema has', () => {
    expect(labelsOf('{ me { id } organization(id: "o") { id } }')).toEqual(['multiple']);
    expect(labelsOf('subscription { me { id } }')).toEqual(['unknown']);
    expect(labelsOf('{ notAField }')).toEqual(['unknown']);
    // A mutation's name asked for as a query is no query field.
    expect(labelsOf('{ disableTwoFactor }')).toEqual(['unknown']);
    expect(labelsOf('{ ...Missing }')).toEqual(['unknown']);
  });

  it('never leaves the closed set, for any name a caller writes', () => {
    const names = [
      ...rootFields,
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      ...Array.from({ length: 2_000 }, (_, i) => `n${i.toString(36)}`),
    ];
    const seen = new Set<string>();
    for (let i = 0; i < names.length; i += 1) {
      const fields = [names[i], names[(i * 7) % names.length], names[(i * 13) % names.length]];
      for (const type of ['query', 'mutation', 'subscription']) {
        for (const label of labelsOf(`${type} Op${i} { ${fields.join(' ')} } `)) seen.add(label);
      }
    }
    expect([...seen].filter((label) => !CLOSED.has(label))).toEqual([]);
    expect(seen.has('unknown') && seen.has('multiple')).toBe(true);
  });
});
