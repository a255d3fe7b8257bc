import type { GraphQLSchema } from 'graphql';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import { authChecker } from './auth';

/**
 * Builds the schema from resolver classes (every module's, src/modules.ts).
 * Resolver instances come from the composition root (their services are
 * constructor arguments); with none the schema is only printed. A resolver
 * class without its instance fails here, at boot, not at its first request.
 */
export function buildSchemaOf(resolverClasses: readonly Function[], instances: object[] = []): Promise<GraphQLSchema> {
  const byClass = new Map<Function, object>(instances.map((instance) => [instance.constructor, instance]));
  if (instances.length > 0) {
    const missing = resolverClasses
      .filter((resolverClass) => !byClass.has(resolverClass))
      .map((resolverClass) => resolverClass.name);
    if (missing.length > 0) throw new Error(`no instance of ${missing.join(', ')} was provided`);
  }
  return buildSchema({
    resolvers: [...resolverClasses] as NonEmptyArray<Function>,
    validate: false,
    authChecker,
    container: {
      get: (someClass: Function) => {
        const instance = byClass.get(someClass);
        if (!instance) throw new Error(`no instance of ${someClass.name} was provided`);
        return instance;
      },
    },
  });
}
