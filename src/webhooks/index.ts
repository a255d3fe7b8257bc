import type { AuditLog } from '../audit/audit-log';
import type { FactorActions } from '../audit/factor-actions';
import type { Config } from '../config/config';
import type { Metrics } from '../http/metrics';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { NetworkPolicy, type ResolveHost } from '../infra/outbound/network-policy';
import { type OutboundIntercept, OutboundSender } from '../infra/outbound/outbound-sender';
import { ciphertextsOf, type Module } from '../module';
import { DeliveryWorker } from './delivery-worker';
import { WebhookEventWriter } from './event-writer';
import { OutboxPurger } from './outbox-purger';
import { WebhookEndpointService } from './webhook-endpoint.service';
import { WEBHOOK_ENTITIES, WebhookEndpointRecord, webhookSecretBinding } from './webhook.entities';
import { WebhookRepository } from './webhook.repository';
import { WebhookResolver } from './webhook.resolver';

/**
 * What tests may swap: name resolution (a stub DNS), the trust anchors for
 * receivers' certificates; the attempt time-out and the idle poll, beyond what
 * the settings allow, for tests that must not depend on either.
 */
export interface WebhookOverrides {
  resolve?: ResolveHost;
  ca?: string | Buffer;
  /** Instead of LIMITS.webhookTimeoutSeconds. */
  attemptTimeoutMs?: number;
  /** Instead of WEBHOOK_POLL_INTERVAL_MS. */
  pollIntervalMs?: number;
  /** Each outbound attempt (a webhook delivery, a pushed SET) made in the sender's place. */
  intercept?: OutboundIntercept;
}

export interface Webhooks {
  events: WebhookEventWriter;
  service: WebhookEndpointService;
  resolver: WebhookResolver;
  worker: DeliveryWorker;
  purger: OutboxPurger;
  policy: NetworkPolicy;
  start(): void;
  /** Stops the worker (attempts in flight get a moment to finish) and the purge. */
  stop(): Promise<void>;
}

/**
 * Security events as signed webhooks: the outbox writer (made first, for the
 * audit log), then the endpoint API, the delivery worker and the retention
 * purge that every instance runs.
 */
export function createWebhooks(deps: {
  config: Config;
  database: Database;
  repository: WebhookRepository;
  events: WebhookEventWriter;
  secrets: SecretBox;
  audit: AuditLog;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  overrides?: WebhookOverrides;
}): Webhooks {
  const { config, database, repository, events, secrets, audit, metrics, clock, logger } = deps;
  const policy = new NetworkPolicy(config.webhooks.allowPrivateNetworks, deps.overrides?.resolve);
  const sender = new OutboundSender(policy, {
    ca: deps.overrides?.ca,
    timeoutMs: deps.overrides?.attemptTimeoutMs,
    intercept: deps.overrides?.intercept,
  });
  const service = new WebhookEndpointService({ database, repository, policy, secrets, audit, clock });
  const counted = metrics.watchWebhooks(
    () => repository.oldestPending(),
    () => clock.now(),
  );
  const worker = new DeliveryWorker({
    database,
    repository,
    sender,
    secrets,
    clock,
    logger,
    audit,
    pollIntervalMs: deps.overrides?.pollIntervalMs ?? config.webhooks.pollIntervalMs,
    onOutcome: counted,
  });
  const purger = new OutboxPurger({
    database,
    repository,
    clock,
    logger,
    retentionDays: config.webhooks.retentionDays,
  });
  return {
    events,
    service,
    resolver: new WebhookResolver(service),
    worker,
    purger,
    policy,
    start() {
      worker.start();
      purger.start();
    },
    async stop() {
      await Promise.all([worker.stop(), purger.stop()]);
      sender.close();
    },
  };
}

interface WebhooksNeeds {
  config: Config;
  database: Database;
  secrets: SecretBox;
  audit: AuditLog;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  webhookOverrides: WebhookOverrides;
  factorActions: FactorActions;
  webhookRepository: WebhookRepository;
  securityEvents: WebhookEventWriter;
  webhooks: Webhooks;
}

interface WebhooksGives {
  webhookRepository: WebhookRepository;
  /** The outbox writer: every audited security change, in its transaction. */
  securityEvents: WebhookEventWriter;
  /** The same writer, told when a member's access moves with the member's own change. */
  memberStateChanges: WebhookEventWriter;
  webhooks: Webhooks;
}

/** Security events as signed webhooks (docs/adr/0008-webhook-outbox.md). */
export const webhooksModule: Module<WebhooksNeeds, WebhooksGives> = {
  name: 'webhooks',
  entities: WEBHOOK_ENTITIES,
  resolvers: [WebhookResolver],
  // Both secrets of an endpoint (at most 20 rows: no index needed to read their key ids).
  ciphertexts: (['secretCiphertext', 'previousSecretCiphertext'] as const).map((column) =>
    ciphertextsOf({
      entity: WebhookEndpointRecord,
      key: ['id'],
      column,
      binding: (row) => webhookSecretBinding(row.id),
    }),
  ),
  provides: {
    webhookRepository: ({ database, clock }) => new WebhookRepository(database, () => clock.now().getTime()),
    securityEvents: ({ webhookRepository, clock, factorActions }) =>
      new WebhookEventWriter(webhookRepository, clock, factorActions),
    memberStateChanges: ({ securityEvents }) => securityEvents,
    webhooks: (r) =>
      createWebhooks({
        config: r.config,
        database: r.database,
        repository: r.webhookRepository,
        events: r.securityEvents,
        secrets: r.secrets,
        audit: r.audit,
        metrics: r.metrics,
        clock: r.clock,
        logger: r.logger,
        overrides: r.webhookOverrides,
      }),
  },
  create: ({ webhooks }) => ({ resolvers: [webhooks.resolver], background: [webhooks] }),
};
