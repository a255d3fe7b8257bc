import type { ApolloServerPlugin } from '@apollo/server';
import {
  type DocumentNode,
  getVariableValues,
  GraphQLError,
  Kind,
  visit,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { LIMITS } from '../limits';

/** What one document may ask for; past any of these it is refused before anything runs. */
export const DOCUMENT_LIMITS = {
  maxDepth: LIMITS.maxDepth,
  maxAliases: LIMITS.maxAliases,
  maxRootFields: LIMITS.maxRootFields,
  maxCost: LIMITS.maxCost,
  maxExpandedFields: LIMITS.maxExpandedFields,
  maxSchemaSelections: LIMITS.maxSchemaSelections,
  maxTypeSelections: LIMITS.maxTypeSelections,
  maxTokens: LIMITS.maxTokens,
};

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);
const introspectionOnly = new WeakMap<DocumentNode, boolean>();

/**
 * Whether every operation of the document selects only `__schema`, `__type` and
 * `__typename` at its root (through fragments too): how Sandbox, code generators
 * and IDEs load the schema, with graphql-js's 15-level introspection query. When
 * introspection is on, such documents are held to the token, body, expansion and
 * introspection-count limits only (graphql-js's own MaxIntrospectionDepthRule
 * bounds their nested lists); a document mixing them with our fields keeps every limit.
 */
export function selectsOnlyIntrospection(document: DocumentNode): boolean {
  let only = introspectionOnly.get(document);
  if (only !== undefined) return only;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // A fragment is looked into once: a second visit is either a cycle (refused by
  // graphql's own rules) or one already found introspection-only.
  const seen = new Set<string>();
  const check = (selectionSet: SelectionSetNode): boolean =>
    selectionSet.selections.every((selection) => {
      if (selection.kind === Kind.FIELD) return INTROSPECTION_FIELDS.has(selection.name.value);
      if (selection.kind === Kind.INLINE_FRAGMENT) return check(selection.selectionSet);
      const fragment = fragments.get(selection.name.value);
      if (!fragment) return false;
      if (seen.has(fragment.name.value)) return true;
      seen.add(fragment.name.value);
      return check(fragment.selectionSet);
    });
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  only = operations.length > 0 && operations.every((operation) => check(operation.selectionSet));
  introspectionOnly.set(document, only);
  return only;
}

const times = (count: number) => (count === 1 ? 'once' : `${count} times`);

const refuse = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });

interface Shape {
  depth: number;
  fields: number;
  /** `__schema` and `__type` fields selected (each answers a slice of the schema). */
  schemas: number;
  types: number;
}

/**
 * Selection depth, and the number of fields once fragments are expanded, per
 * operation; `__schema` and `__type` selections in the whole document (every
 * document: introspection-only ones are exempt from the alias limit). Each
 * fragment is measured once (memoized), so a document that spreads fragments
 * into each other exponentially costs linear time to refuse; the expanded size
 * also bounds what the cost walk may have to expand later. Fragment cycles are
 * refused by graphql's own rules (and skipped here).
 */
export const shapeRule =
  (
    maxDepth: number,
    maxExpandedFields: number,
    exemptIntrospection = false,
    maxSchemaSelections: number = DOCUMENT_LIMITS.maxSchemaSelections,
    maxTypeSelections: number = DOCUMENT_LIMITS.maxTypeSelections,
  ): ValidationRule =>
  (context: ValidationContext): ASTVisitor => {
    // The expansion cap holds for introspection too: the full query expands to ~230 fields.
    const depthExempt = exemptIntrospection && selectsOnlyIntrospection(context.getDocument());
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const measured = new Map<string, Shape>();
    const inProgress = new Set<string>();
    const measure = (selectionSet: SelectionSetNode): Shape => {
      let depth = 0;
      let fields = 0;
      let schemas = 0;
      let types = 0;
      for (const selection of selectionSet.selections) {
        let inner: Shape;
        if (selection.kind === Kind.FIELD) {
          const below = selection.selectionSet
            ? measure(selection.selectionSet)
            : { depth: 0, fields: 0, schemas: 0, types: 0 };
          const name = selection.name.value;
          inner = {
            depth: below.depth + 1,
            fields: below.fields + 1,
            schemas: below.schemas + (name === '__schema' ? 1 : 0),
            types: below.types + (name === '__type' ? 1 : 0),
          };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(selection.selectionSet);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || inProgress.has(name)) continue;
          if (!measured.has(name)) {
            inProgress.add(name);
            measured.set(name, measure(fragment.selectionSet));
            inProgress.delete(name);
          }
          inner = measured.get(name)!;
        }
        depth = Math.max(depth, inner.depth);
        fields += inner.fields;
        schemas += inner.schemas;
        types += inner.types;
      }
      return { depth, fields, schemas, types };
    };
    let schemas = 0;
    let types = 0;
    return {
      Document: {
        leave() {
          for (const [field, count, max] of [
            ['__schema', schemas, maxSchemaSelections],
            ['__type', types, maxTypeSelections],
          ] as const) {
            if (count > max) {
              context.reportError(
                refuse(
                  `A document may select ${field} at most ${times(max)} (aliases and fragments count); this one selects it ${times(count)}.`,
                ),
              );
            }
          }
        },
      },
      OperationDefinition(node) {
        const shape = measure(node.selectionSet);
        const { depth, fields } = shape;
        schemas += shape.schemas;
        types += shape.types;
        if (depth > maxDepth && !depthExempt)
          context.reportError(refuse(`The query is ${depth} levels deep; at most ${maxDepth} are allowed.`));
        if (fields > maxExpandedFields) {
          context.reportError(
            refuse(
              `The query selects ${fields} fields once fragments are expanded; at most ${maxExpandedFields} are allowed.`,
            ),
          );
        }
      },
    };
  };

/** Aliases in the whole document, and fields at the root of each operation. */
export const aliasAndRootFieldRule =
  (maxAliases: number, maxRootFields: number, exemptIntrospection = false): ValidationRule =>
  (context) => {
    if (exemptIntrospection && selectsOnlyIntrospection(context.getDocument())) return {};
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias && ++aliases === maxAliases + 1)
          context.reportError(refuse(`At most ${maxAliases} aliases are allowed in a document.`));
      },
      OperationDefinition(node) {
        if (node.selectionSet.selections.length > maxRootFields) {
          context.reportError(refuse(`At most ${maxRootFields} root fields are allowed in an operation.`));
        }
      },
    };
  };

/**
 * Cost: one per field; a page multiplies what it holds by `first` (its default
 * included), a `users(ids)` list by the number of ids.
 */
const listAwareEstimator: ComplexityEstimator = ({ args, childComplexity }) => {
  const multiplier = typeof args.first === 'number' ? args.first : Array.isArray(args.ids) ? args.ids.length : 1;
  return 1 + Math.max(1, multiplier) * childComplexity;
};

/**
 * Whether a document can cost more than its size: only `first` and `ids`
 * multiply. Others are bounded by the depth, alias, root-field and token
 * limits already, so the hot reads skip the cost walk. Apollo reuses the parsed
 * document of a repeated query, so this is decided once per query text.
 */
const multiplies = new WeakMap<DocumentNode, boolean>();
function hasMultipliers(document: DocumentNode): boolean {
  let found = multiplies.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      Argument(node) {
        if (node.name.value === 'first' || node.name.value === 'ids') found = true;
      },
      Field(node) {
        // Fields whose `first` has a default multiply even when it is not written.
        if (node.name.value === 'members' || node.name.value === 'auditEvents') found = true;
      },
    });
    multiplies.set(document, found);
  }
  return found;
}

/**
 * Whether a variable can change the document's cost: one given to `first` or
 * `ids` (the multipliers), or to @include/@skip. Decided once per parsed document.
 */
const variableCost = new WeakMap<DocumentNode, boolean>();
function costDependsOnVariables(document: DocumentNode): boolean {
  let found = variableCost.get(document);
  if (found === undefined) {
    let depends = false;
    visit(document, {
      Argument(node) {
        if ((node.name.value === 'first' || node.name.value === 'ids') && containsVariable(node.value)) depends = true;
      },
      Directive(node) {
        if (
          (node.name.value === 'include' || node.name.value === 'skip') &&
          node.arguments?.some((a) => containsVariable(a.value))
        )
          depends = true;
      },
    });
    found = depends;
    variableCost.set(document, found);
  }
  return found;
}

function containsVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(containsVariable);
  if (value.kind === Kind.OBJECT) return value.fields.some((field) => containsVariable(field.value));
  return false;
}

/** The cost of an operation whose variables cannot change it, by document and operation name. */
const fixedCosts = new WeakMap<DocumentNode, Map<string, number>>();

/** Where the cost limit says why it refused a document it could not measure. */
export type CostWarning = (fields: Record<string, unknown>, message: string) => void;

/**
 * Needs the variables, so it runs once the operation is resolved, still before
 * execution. A cost that cannot be computed refuses the document (fails closed,
 * ADR 0010): a check that is skipped when it throws is no limit.
 */
export function costLimitPlugin(
  maxCost: number,
  exemptIntrospection = false,
  warn: CostWarning = () => undefined,
): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation: definition }) {
          if (!hasMultipliers(document) || (exemptIntrospection && selectsOnlyIntrospection(document))) return;
          const fixed = !costDependsOnVariables(document);
          const operation = request.operationName ?? '';
          let cost = fixed ? fixedCosts.get(document)?.get(operation) : undefined;
          if (cost === undefined) {
            // Variables that do not coerce are the caller's mistake, refused as execution would refuse them.
            const coerced = getVariableValues(schema, definition?.variableDefinitions ?? [], request.variables ?? {}, {
              maxErrors: 1,
            });
            if (coerced.errors) {
              throw new GraphQLError(coerced.errors[0].message, {
                extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
              });
            }
            try {
              cost = getComplexity({
                schema,
                query: document,
                variables: request.variables ?? {},
                operationName: request.operationName ?? undefined,
                estimators: [listAwareEstimator],
              });
            } catch (error) {
              // A fault of ours, not the caller's: why, without the document's values (quoted in messages).
              warn(
                {
                  err: {
                    type: error instanceof Error ? error.name : typeof error,
                    message: error instanceof Error ? error.message.replace(/"(?:[^"\\]|\\.)*"/g, '"…"') : undefined,
                  },
                },
                'cost could not be computed: document refused',
              );
              throw refuse('The cost of this query could not be computed, so it is refused.');
            }
            if (fixed) {
              const costs = fixedCosts.get(document) ?? new Map<string, number>();
              costs.set(operation, cost);
              fixedCosts.set(document, costs);
            }
          }
          if (cost > maxCost) throw refuse(`The query costs ${cost}; at most ${maxCost} is allowed.`);
        },
      };
    },
  };
}
