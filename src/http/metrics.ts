import type { ApolloServerPlugin } from '@apollo/server';
import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type Budgets = { total: number; setup: number };

/**
 * How a login passed the second factor: a factor's method in lower case (bounded
 * by the TwoFactorMethod enum), or `device`: never a value a caller chose.
 */
export type LoginMethod = Lowercase<string>;

/** Process metrics, GraphQL operations by root field and outcome with latency, and logins by method. */
export class Metrics {
  readonly registry = new Registry();
  readonly operations = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operations by root field and outcome (ok or the error code).',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  private readonly logins = new Counter({
    name: 'login_successes_total',
    help: 'Logins that passed the second factor, by method: the factor that answered (lower case), or device (a trusted device skipped it).',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A login passed the second factor (counted once it committed). */
  countLogin(method: LoginMethod): void {
    this.logins.inc({ method });
  }

  /**
   * The SMS budgets, `budget` = total or setup: their limits, and what today used
   * (read from the store at each scrape; absent while the store cannot answer).
   */
  watchSmsBudgets(limits: Budgets, readUsed: () => Promise<Budgets>): void {
    const limit = new Gauge({
      name: 'sms_daily_budget_limit',
      help: 'SMS a day: for the whole service (total) and, within it, for numbers not yet confirmed (setup).',
      labelNames: ['budget'] as const,
      registers: [this.registry],
    });
    for (const budget of ['total', 'setup'] as const) limit.set({ budget }, limits[budget]);
    new Gauge({
      name: 'sms_daily_budget_used',
      help: 'SMS sent today against each daily budget, across all instances.',
      labelNames: ['budget'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        const used = await readUsed().catch(() => null);
        if (used) for (const budget of ['total', 'setup'] as const) this.set({ budget }, used[budget]);
      },
    });
  }

  /**
   * Webhooks: attempts by outcome (delivered, retried, failed, disabled: the
   * endpoint answered 410), counted by the instance that made them; and the age
   * of the oldest event still waiting for delivery (0 when none), read from the
   * database at each scrape (absent while it cannot answer).
   */
  watchWebhooks(readOldestPending: () => Promise<Date | null>, now: () => Date): (outcome: string) => void {
    const deliveries = new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retried, failed (gave up), disabled (410).',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
    });
    for (const outcome of ['delivered', 'retried', 'failed', 'disabled']) deliveries.inc({ outcome }, 0);
    new Gauge({
      name: 'webhook_oldest_pending_event_age_seconds',
      help: 'Age of the oldest security event not yet delivered to every endpoint (0 when none waits).',
      registers: [this.registry],
      async collect() {
        this.reset();
        const oldest = await readOldestPending().then(
          (date) => date,
          () => undefined,
        );
        if (oldest === undefined) return;
        this.set(oldest ? Math.max(0, (now().getTime() - oldest.getTime()) / 1000) : 0);
      },
    });
    return (outcome) => deliveries.inc({ outcome });
  }

  /**
   * Labels are closed: `operation` is one root field of the schema, `multiple`
   * or `unknown`, never a name the caller wrote (operation names, unknown
   * fields), so no caller can grow the label set (each label set is 14 series).
   */
  apolloPlugin(): ApolloServerPlugin {
    const histogram = this.operations;
    return {
      async requestDidStart() {
        const started = process.hrtime.bigint();
        let operation = 'unknown';
        return {
          async didResolveOperation({ operation: definition, document, schema }) {
            if (definition) operation = operationLabel(definition, document, schema);
          },
          async willSendResponse({ response, errors }) {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
            // The formatted errors carry the contract's codes.
            const first = body?.errors?.[0] ?? errors?.[0];
            histogram.observe({ operation, outcome: first ? outcomeLabel(first.extensions?.code) : 'ok' }, seconds);
          },
        };
      },
    };
  }
}

/** Root fields that only describe the schema; ignored beside a real field. */
const TYPENAME = '__typename';
const META_FIELDS = new Set([TYPENAME, '__schema', '__type']);
const labels = new WeakMap<OperationDefinitionNode, string>();

/**
 * The operation's label: the one root field of the schema it selects (through
 * fragments too; `__typename` beside others is ignored), `multiple` for more
 * than one, `unknown` for none the schema has. Memoized per parsed operation
 * (Apollo reuses the parsed document of a repeated query).
 */
export function operationLabel(
  definition: OperationDefinitionNode,
  document: DocumentNode,
  schema: GraphQLSchema,
): string {
  let label = labels.get(definition);
  if (label !== undefined) return label;
  const rootFields = schema.getRootType(definition.operation)?.getFields() ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const node of document.definitions)
    if (node.kind === Kind.FRAGMENT_DEFINITION) fragments.set(node.name.value, node);
  const names = new Set<string>();
  const seen = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (META_FIELDS.has(name) || Object.hasOwn(rootFields, name)) names.add(name);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(definition.selectionSet);
  if (names.size > 1) names.delete(TYPENAME);
  label = names.size === 0 ? 'unknown' : names.size === 1 ? [...names][0] : 'multiple';
  labels.set(definition, label);
  return label;
}

/** `ok`, or the error's code: codes are the service's constants, and anything else is `ERROR`. */
function outcomeLabel(code: unknown): string {
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,47}$/.test(code) ? code : 'ERROR';
}
