import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

type Budgets = { total: number; setup: number };

/** How a login passed the second factor: a factor's method (lower case), or a trusted device. */
export type LoginMethod = 'totp' | 'sms' | 'webauthn' | 'recovery_code' | 'device';

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
    help: 'Logins that passed the second factor, by method: totp, sms, webauthn, recovery_code, or device (a trusted device skipped it).',
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
   * Labels use the root field names (bounded by the schema), never the
   * client-chosen operation name, so callers cannot grow the label set.
   */
  apolloPlugin(): ApolloServerPlugin {
    const histogram = this.operations;
    return {
      async requestDidStart() {
        const started = process.hrtime.bigint();
        let operation = 'unknown';
        return {
          async didResolveOperation({ operation: definition }) {
            if (definition) operation = rootFields(definition);
          },
          async willSendResponse({ response, errors }) {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
            // The formatted errors carry the contract's codes.
            const first = body?.errors?.[0] ?? errors?.[0];
            const outcome = first ? String(first.extensions?.code ?? 'ERROR') : 'ok';
            histogram.observe({ operation, outcome }, seconds);
          },
        };
      },
    };
  }
}

function rootFields(definition: OperationDefinitionNode): string {
  const names = definition.selectionSet.selections
    .map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : '...'))
    .sort();
  return [...new Set(names)].slice(0, 3).join(',') || 'unknown';
}
