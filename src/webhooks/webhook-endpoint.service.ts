import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { AuditLog } from '../audit/audit-log';
import type { Actor } from '../callers/caller';
import { AppError, badInput } from '../errors';
import { toPage } from '../graphql/connection';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { NetworkPolicy } from '../infra/outbound/network-policy';
import { LIMITS } from '../limits';
import { decodeCursor, encodeCursor, pageSize } from '../pagination';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from './event-types';
import { type WebhookEndpointRecord, webhookSecretBinding } from './webhook.entities';
import type { WebhookRepository } from './webhook.repository';
import {
  WebhookDelivery,
  type WebhookDeliveryConnection,
  type WebhookDeliveryState,
  WebhookEndpoint,
  WebhookEndpointSecret,
} from './webhook.types';

/** A delivery id as the API shows it: the row's bigint, in decimal. */
const DELIVERY_ID = /^[1-9][0-9]{0,18}$/;

/** A new signing secret: 256 random bits, in the Standard Webhooks form. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export interface WebhookEndpointServiceDependencies {
  database: Database;
  repository: WebhookRepository;
  policy: NetworkPolicy;
  secrets: SecretBox;
  audit: AuditLog;
  clock: Clock;
}

/**
 * The admin API (twofactor:admin) over endpoints and their deliveries. Secrets
 * are stored encrypted and shown once, when made; every change is audited.
 */
export class WebhookEndpointService {
  constructor(private readonly deps: WebhookEndpointServiceDependencies) {}

  async list(): Promise<WebhookEndpoint[]> {
    const records = await this.deps.database.run((manager) => this.deps.repository.listEndpoints(manager));
    return records.map((record) => WebhookEndpoint.of(record));
  }

  async create(actor: Actor, url: string, eventTypes: string[] | null | undefined): Promise<WebhookEndpointSecret> {
    const { repository, policy, secrets, audit, clock } = this.deps;
    const checkedUrl = await policy.checkUrl(url);
    const types = parseEventTypes(eventTypes);
    const secret = newSecret();
    const record = await this.changingEndpoints(async (manager) => {
      // Counted under a lock row: parallel creates, on any instance, count and insert one at a time.
      if ((await repository.countEndpointsLocked(manager)) >= LIMITS.webhookMaxEndpoints) {
        throw badInput(`At most ${LIMITS.webhookMaxEndpoints} webhook endpoints; delete one first.`);
      }
      const now = clock.now();
      const id = randomUUID();
      const endpoint: WebhookEndpointRecord = {
        id,
        url: checkedUrl,
        eventTypes: types.join(','),
        enabled: true,
        disabledReason: null,
        secretCiphertext: secrets.seal(secret, webhookSecretBinding(id)),
        previousSecretCiphertext: null,
        previousSecretExpiresAt: null,
        createdAt: now,
        updatedAt: now,
      };
      await repository.insertEndpoint(manager, endpoint);
      await audit.record(
        manager,
        actor,
        { action: 'WEBHOOK_ENDPOINT_CREATED', reason: `endpoint ${endpoint.id}` },
        now,
      );
      return endpoint;
    });
    return Object.assign(new WebhookEndpointSecret(), { endpoint: WebhookEndpoint.of(record), secret });
  }

  /**
   * Changes what is given. Enabling clears why the service disabled it;
   * disabling by hand fails what is still queued for it (state FAILED: a retry
   * by hand sends it once it is enabled again).
   */
  async update(
    actor: Actor,
    id: string,
    changes: { url?: string | null; eventTypes?: string[] | null; enabled?: boolean | null },
  ): Promise<WebhookEndpoint> {
    const { repository, policy, audit, clock } = this.deps;
    const url = changes.url === null || changes.url === undefined ? undefined : await policy.checkUrl(changes.url);
    const types =
      changes.eventTypes === null || changes.eventTypes === undefined ? undefined : parseEventTypes(changes.eventTypes);
    const record = await this.changingEndpoints(async (manager) => {
      const existing = await repository.findEndpointForUpdate(manager, id);
      if (!existing) throw notFound();
      const now = clock.now();
      const update: Partial<WebhookEndpointRecord> = { updatedAt: now };
      if (url !== undefined) update.url = url;
      if (types !== undefined) update.eventTypes = types.join(',');
      if (changes.enabled === true) Object.assign(update, { enabled: true, disabledReason: null });
      if (changes.enabled === false) Object.assign(update, { enabled: false, disabledReason: null });
      await repository.updateEndpoint(manager, id, update);
      if (changes.enabled === false && existing.enabled) await repository.failPending(manager, id, 'endpoint disabled');
      const what = Object.keys(update).filter((key) => key !== 'updatedAt' && key !== 'disabledReason');
      await audit.record(
        manager,
        actor,
        { action: 'WEBHOOK_ENDPOINT_UPDATED', reason: `endpoint ${id}: ${what.join(', ') || 'nothing'}` },
        now,
      );
      return { ...existing, ...update };
    });
    return WebhookEndpoint.of(record);
  }

  /**
   * A new secret; the one it replaces keeps signing beside it for
   * LIMITS.webhookSecretOverlapSeconds. Under the endpoint's row lock: parallel
   * rotations run one at a time, each keeping as previous the secret it replaced.
   */
  async rotate(actor: Actor, id: string): Promise<WebhookEndpointSecret> {
    const { repository, secrets, audit, clock } = this.deps;
    const secret = newSecret();
    const record = await this.changingEndpoints(async (manager) => {
      const existing = await repository.findEndpointForUpdate(manager, id);
      if (!existing) throw notFound();
      const now = clock.now();
      const update: Partial<WebhookEndpointRecord> = {
        secretCiphertext: secrets.seal(secret, webhookSecretBinding(id)),
        previousSecretCiphertext: existing.secretCiphertext,
        previousSecretExpiresAt: new Date(now.getTime() + LIMITS.webhookSecretOverlapSeconds * 1000),
        updatedAt: now,
      };
      await repository.updateEndpoint(manager, id, update);
      await audit.record(manager, actor, { action: 'WEBHOOK_SECRET_ROTATED', reason: `endpoint ${id}` }, now);
      return { ...existing, ...update };
    });
    return Object.assign(new WebhookEndpointSecret(), { endpoint: WebhookEndpoint.of(record), secret });
  }

  /** The endpoint and its deliveries; false when there was none. */
  async delete(actor: Actor, id: string): Promise<boolean> {
    const { repository, audit, clock } = this.deps;
    return this.changingEndpoints(async (manager) => {
      if (!(await repository.deleteEndpoint(manager, id))) return false;
      await audit.record(manager, actor, { action: 'WEBHOOK_ENDPOINT_DELETED', reason: `endpoint ${id}` }, clock.now());
      return true;
    });
  }

  /** A transaction that changes endpoints; after it, events on this instance read the endpoints afresh. */
  private async changingEndpoints<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.deps.database.transaction(work);
    } finally {
      this.deps.repository.endpointsChanged();
    }
  }

  /** Newest first, keyset cursors valid for this endpoint and state filter only. */
  async deliveries(
    endpointId: string,
    state: WebhookDeliveryState | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<WebhookDeliveryConnection> {
    const { database, repository } = this.deps;
    const limit = pageSize(first);
    const list = `webhook-deliveries:${endpointId}:${state ?? '*'}`;
    const beforeId = decodeCursor(after, list);
    if (beforeId !== undefined && !DELIVERY_ID.test(beforeId))
      throw badInput('after is not a cursor of this list and filter.', 'after');
    const rows = await database.run(async (manager) => {
      if (!(await repository.findEndpoint(manager, endpointId))) throw notFound();
      return repository.page(manager, { endpointId, state: state ?? undefined, beforeId, limit: limit + 1 });
    });
    return toPage(rows, limit, (row) => ({ cursor: encodeCursor(list, row.id), node: WebhookDelivery.of(row) }));
  }

  /** A FAILED delivery queued again: a new series of attempts, the same event id. */
  async retry(actor: Actor, id: string): Promise<WebhookDelivery> {
    const { database, repository, audit, clock } = this.deps;
    if (!DELIVERY_ID.test(id)) throw deliveryNotFound();
    const row = await database.transaction(async (manager) => {
      const delivery = await repository.findDelivery(manager, id);
      if (!delivery) throw deliveryNotFound();
      if (delivery.state !== 'FAILED')
        throw badInput(`Only a FAILED delivery is retried; this one is ${delivery.state}.`, 'id');
      const endpoint = await repository.findEndpoint(manager, delivery.endpointId);
      if (!endpoint?.enabled)
        throw badInput('Its endpoint is disabled: enable it first (updateWebhookEndpoint).', 'id');
      const now = clock.now();
      if (!(await repository.requeue(manager, id, now))) throw badInput('Only a FAILED delivery is retried.', 'id');
      await audit.record(manager, actor, { action: 'WEBHOOK_DELIVERY_RETRIED', reason: `delivery ${id}` }, now);
      return (await repository.findDelivery(manager, id))!;
    });
    return WebhookDelivery.of(row);
  }
}

/** Known types only, each once, in the order given; empty: every type. */
function parseEventTypes(eventTypes: string[] | null | undefined): string[] {
  const given = [...new Set(eventTypes ?? [])];
  const unknown = given.filter((type) => !isWebhookEventType(type));
  if (unknown.length > 0) {
    throw badInput(
      `eventTypes: unknown ${unknown.map((type) => JSON.stringify(type.slice(0, 64))).join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
      'eventTypes',
    );
  }
  return given;
}

const notFound = () => new AppError('NOT_FOUND', 'No webhook endpoint has this id.');
const deliveryNotFound = () => new AppError('NOT_FOUND', 'No webhook delivery has this id.');
