import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  defaultFieldResolver,
  type DocumentNode,
  execute,
  type ExecutionResult,
  getVariableValues,
  type GraphQLError,
  type GraphQLSchema,
  isIntrospectionType,
  isObjectType,
  locatedError,
  type OperationDefinitionNode,
  type SourceLocation,
} from 'graphql';
import { compileQuery, type CompiledQuery, isCompiledQuery } from 'graphql-jit';
import { Counter, type Registry } from 'prom-client';
import { selectsOnlyIntrospection } from './document-limits';

type Gateway = ApolloServerOptionsWithGateway<Record<string, unknown>>['gateway'];
type GatewayExecutor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;
/** What Apollo hands a gateway's executor: its own parsed, validated document and resolved operation. */
export type ExecutorRequest = Parameters<GatewayExecutor>[0];

export interface CompiledExecutorOptions {
  /** Documents kept (compiled, or counted until they are), the least recently used dropped first. */
  compiledDocuments: number;
  /** The request at which a document is compiled; until then graphql-js runs it. */
  compileAfterRequests: number;
  /** Where to count operations by the executor that ran them. */
  registry?: Registry;
}

interface Entry {
  requests: number;
  /** By operation name: null where graphql-jit cannot compile it (graphql-js runs it). */
  compiled: Map<string, CompiledQuery | null>;
}

/**
 * Runs each query with graphql-jit once its document has been seen
 * `compileAfterRequests` times, and with graphql-js otherwise: a document sent
 * once (or a new text every time) never pays for a compilation. The answer is
 * graphql-js's to the byte (test/graphql/executor-parity.test.ts): variables are
 * coerced by graphql-js, jit's errors are rebuilt as graphql-js builds them, and
 * where the two differ (mutations; several errors) graphql-js runs it. Fields of
 * `schema` without a resolver are given graphql-js's default one.
 */
export function createCompiledExecutor(schema: GraphQLSchema, options: CompiledExecutorOptions) {
  // jit reads a field that has no resolver inline, outside its try/catch: a getter
  // that threw there would leave the request hanging. graphql-js's own default,
  // given to those fields, runs inside it (graphql-js runs it for them anyway).
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) field.resolve ??= defaultFieldResolver;
  }
  const executions = new Counter({
    name: 'graphql_executions_total',
    help: 'GraphQL operations run, by executor: jit (compiled), or graphql-js (a document not compiled yet, or one jit does not compile).',
    labelNames: ['executor'] as const,
    registers: options.registry ? [options.registry] : [],
  });
  const ranByJit = executions.labels('jit');
  const ranByGraphqlJs = executions.labels('graphql-js');
  // By the parsed document: Apollo keeps one per query text (its document store),
  // so a repeated query finds its entry by identity, without hashing a key.
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<DocumentNode, Entry>();

  const compiledFor = (request: ExecutorRequest): CompiledQuery | null => {
    const { document } = request;
    let entry = entries.get(document);
    if (entry) entries.delete(document);
    else entry = { requests: 0, compiled: new Map() };
    entries.set(document, entry);
    if (entries.size > options.compiledDocuments) entries.delete(entries.keys().next().value!);
    entry.requests += 1;
    if (entry.requests < options.compileAfterRequests) return null;
    const name = request.operationName ?? '';
    let compiled = entry.compiled.get(name);
    if (compiled === undefined) {
      compiled = compile(schema, document, request.operation, request.operationName ?? undefined);
      entry.compiled.set(name, compiled);
    }
    return compiled;
  };

  const withGraphqlJs = (request: ExecutorRequest) => {
    ranByGraphqlJs.inc();
    return execute({
      schema,
      document: request.document,
      contextValue: request.context,
      variableValues: request.request.variables,
      operationName: request.request.operationName,
    });
  };

  return async (request: ExecutorRequest): Promise<ExecutionResult> => {
    // No operation to run (an unknown operationName): graphql-js words the error Apollo passes on.
    if (!request.operation) return withGraphqlJs(request);
    const compiled = compiledFor(request);
    if (!compiled) return withGraphqlJs(request);
    // graphql-js decides which variables are refused and how the refusal reads (BAD_USER_INPUT).
    const variables = request.request.variables ?? {};
    const coerced = getVariableValues(schema, request.operation.variableDefinitions ?? [], variables, {
      maxErrors: 50,
    });
    if (coerced.errors) return { errors: coerced.errors };
    const result = await compiled.query(undefined, request.context, variables);
    // jit refused variables graphql-js took: nothing ran yet, so graphql-js may run it.
    if (!('data' in result)) return withGraphqlJs(request);
    // Errors in a subtree nulled by a non-null field: graphql-js reports the first
    // only, jit all of them. Only queries are compiled: reads, safe to run again.
    if (result.errors && result.errors.length > 1) return withGraphqlJs(request);
    ranByJit.inc();
    // graphql-js's key order: errors first, and no errors key without errors.
    return result.errors?.length
      ? { errors: result.errors.map(asGraphqlJsError), data: result.data }
      : { data: result.data };
  };
}

function compile(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  operationName?: string,
): CompiledQuery | null {
  // Mutations stay with graphql-js: jit runs a mutation's next root field after
  // one failed (graphql-js stops), and what a mutation did cannot be run again.
  if (operation.operation !== 'query') return null;
  // Introspection (Sandbox, code generators) is rare and large: not worth compiling.
  if (selectsOnlyIntrospection(document)) return null;
  try {
    const compiled = compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true });
    return isCompiledQuery(compiled) ? compiled : null;
  } catch {
    // graphql-js runs what jit cannot compile, and answers as it always has.
    return null;
  }
}

/**
 * jit's errors carry the message, locations, path and what was thrown, but not
 * the extensions, nodes or wrapping graphql-js's locatedError gives: rebuilt
 * here by locatedError itself, so Apollo and format-error see the same error.
 */
function asGraphqlJsError(error: GraphQLError): GraphQLError {
  // What was thrown; jit's own errors (a null in a non-null field, a value a
  // scalar cannot serialize) carry nothing: graphql-js wraps an Error there too.
  const thrown: unknown = error.originalError !== undefined ? error.originalError : new Error(error.message);
  const located = locatedError(thrown, undefined, error.path);
  // Without nodes graphql-js has no locations to compute: jit's are the fields' own.
  if (located !== thrown && !located.nodes)
    (located as { locations?: readonly SourceLocation[] }).locations = error.locations;
  return located;
}

/**
 * Apollo Server runs a custom executor only as a gateway's: this one serves the
 * given schema and hands Apollo the executor (parsing, validation, plugins and
 * error formatting stay Apollo's).
 */
export function compiledExecutorGateway(schema: GraphQLSchema, options: CompiledExecutorOptions): Gateway {
  const executor = createCompiledExecutor(schema, options);
  return {
    // Apollo reads the schema from this callback while it starts: it must be called at once.
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => undefined;
    },
    load: async () => ({ executor }),
    stop: async () => undefined,
  };
}
