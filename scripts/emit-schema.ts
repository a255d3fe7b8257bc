import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { buildGraphQLSchema } from '../src/modules';

/** Writes schema.graphql from the TypeGraphQL code (run by `npm run build`). */
async function main(): Promise<void> {
  const schema = await buildGraphQLSchema();
  const header = '# Generated from the TypeGraphQL code by `npm run build`; do not edit by hand.\n\n';
  writeFileSync(join(__dirname, '..', '..', 'schema.graphql'), header + printSchema(schema) + '\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
