import { randomUUID } from 'node:crypto';
import { type Caller, hasScope } from '../../callers/caller';
import { AppError, badInput } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { Database } from '../../infra/db/database';
import type { NetworkPolicy } from '../../infra/outbound/network-policy';
import { LIMITS } from '../../limits';
import { SSF_EVENTS_SUPPORTED } from './ssf-events';
import { SsfStreamRecord } from './ssf.entities';
import { eventsOf, type SsfRepository, storedEvents, tenantSubject, userSubject } from './ssf.repository';

export const PUSH_METHOD = 'urn:ietf:rfc:8935';
export const POLL_METHOD = 'urn:ietf:rfc:8936';
const STATUSES = ['enabled', 'paused', 'disabled'] as const;
type Status = (typeof STATUSES)[number];

/** Where the transmitter's endpoints are, under SSF_ISSUER. */
export const SSF_PATHS = {
  configuration: '/ssf/streams',
  status: '/ssf/status',
  addSubject: '/ssf/subjects:add',
  removeSubject: '/ssf/subjects:remove',
  verification: '/ssf/verify',
  poll: '/ssf/poll/',
  jwks: '/ssf/jwks.json',
} as const;

type Json = Record<string, unknown>;

/**
 * Stream management (OpenID SSF 1.0 §8): create, read, update, replace and
 * delete a stream, its status, its subjects, and verification. Every input is
 * checked here; a bad one is BAD_USER_INPUT (400), an unknown stream NOT_FOUND.
 */
export class SsfStreams {
  constructor(
    private readonly deps: {
      database: Database;
      repository: SsfRepository;
      policy: NetworkPolicy;
      clock: Clock;
      issuer: string;
      /** The `iss` of iss_sub subjects: AUTH_ISSUER (the issuer of the user ids). */
      subjectIssuer: string;
    },
  ) {}

  async create(caller: Caller, body: unknown): Promise<Json> {
    const input = object(body);
    const now = this.deps.clock.now();
    const stream = new SsfStreamRecord();
    stream.id = randomUUID();
    stream.audience = caller.subject;
    stream.status = 'enabled';
    stream.statusReason = null;
    stream.createdAt = now;
    await this.apply(stream, caller, input, 'replace');
    await this.deps.database.transaction(async (manager) => {
      if ((await this.deps.repository.count(manager)) >= LIMITS.ssfMaxStreams) {
        throw badInput(`At most ${LIMITS.ssfMaxStreams} streams.`);
      }
      await this.deps.repository.save(manager, stream);
    });
    return this.configuration(stream);
  }

  async read(streamId: string | undefined): Promise<Json | Json[]> {
    if (streamId === undefined) {
      const streams = await this.deps.database.run((manager) => this.deps.repository.list(manager));
      return streams.map((stream) => this.configuration(stream));
    }
    return this.configuration(await this.find(streamId));
  }

  /** PATCH (the members given) or PUT (every member; those left out return to their defaults). */
  async update(caller: Caller, body: unknown, how: 'update' | 'replace'): Promise<Json> {
    const input = object(body);
    const stream = await this.find(streamIdIn(input));
    await this.apply(stream, caller, input, how);
    stream.updatedAt = this.deps.clock.now();
    await this.deps.database.transaction((manager) => this.deps.repository.save(manager, stream));
    return this.configuration(stream);
  }

  async delete(streamId: string | undefined): Promise<void> {
    const id = required(streamId);
    const deleted = await this.deps.database.transaction((manager) => this.deps.repository.delete(manager, id));
    if (!deleted) throw streamNotFound();
  }

  async status(streamId: string | undefined): Promise<Json> {
    const stream = await this.find(required(streamId));
    return statusOf(stream);
  }

  /** Enabled (held events go out), paused (held), disabled (dropped, and nothing more is queued). */
  async setStatus(body: unknown): Promise<Json> {
    const input = object(body);
    const id = streamIdIn(input);
    const status = input.status;
    if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
      throw badInput('status must be enabled, paused or disabled.', 'status');
    }
    const reason = optionalText(input.reason, 'reason');
    return this.deps.database.transaction(async (manager) => {
      const stream = await this.deps.repository.find(manager, id);
      if (!stream) throw streamNotFound();
      stream.status = status as Status;
      stream.statusReason = reason ?? null;
      stream.updatedAt = this.deps.clock.now();
      await this.deps.repository.save(manager, stream);
      if (stream.status === 'disabled') await this.deps.repository.dropQueued(manager, id);
      return statusOf(stream);
    });
  }

  async addSubject(body: unknown): Promise<void> {
    const input = object(body);
    const id = streamIdIn(input);
    const subject = this.subjectKey(input.subject);
    await this.deps.database.transaction(async (manager) => {
      if (!(await this.deps.repository.find(manager, id))) throw streamNotFound();
      if ((await this.deps.repository.countSubjects(manager, id)) >= LIMITS.ssfMaxSubjectsPerStream) {
        throw badInput(`At most ${LIMITS.ssfMaxSubjectsPerStream} subjects a stream.`, 'subject');
      }
      await this.deps.repository.addSubject(manager, id, subject);
    });
  }

  async removeSubject(body: unknown): Promise<void> {
    const input = object(body);
    const id = streamIdIn(input);
    const subject = this.subjectKey(input.subject);
    await this.deps.database.transaction(async (manager) => {
      if (!(await this.deps.repository.find(manager, id))) throw streamNotFound();
      await this.deps.repository.removeSubject(manager, id, subject);
    });
  }

  /** Queues a verification event for the stream (SSF 1.0 §8.1.4); a disabled stream gets none. */
  async verify(body: unknown): Promise<void> {
    const input = object(body);
    const id = streamIdIn(input);
    const state = optionalText(input.state, 'state');
    await this.deps.database.transaction(async (manager) => {
      const stream = await this.deps.repository.find(manager, id);
      if (!stream) throw streamNotFound();
      if (stream.status !== 'disabled') {
        await this.deps.repository.queueVerification(manager, id, state, this.deps.clock.now());
      }
    });
  }

  async find(streamId: string): Promise<SsfStreamRecord> {
    const stream = await this.deps.database.run((manager) => this.deps.repository.find(manager, streamId));
    if (!stream) throw streamNotFound();
    return stream;
  }

  /** The stream configuration (SSF 1.0 §8.1.1), members that would be empty left out. */
  configuration(stream: SsfStreamRecord): Json {
    const requested = eventsOf(stream.eventsRequested);
    return {
      stream_id: stream.id,
      iss: this.deps.issuer,
      aud: stream.audience,
      events_supported: [...SSF_EVENTS_SUPPORTED],
      ...(requested.length > 0 ? { events_requested: requested, events_delivered: requested } : {}),
      delivery: {
        method: stream.deliveryMethod === 'push' ? PUSH_METHOD : POLL_METHOD,
        endpoint_url:
          stream.deliveryMethod === 'push'
            ? stream.endpointUrl
            : `${this.deps.issuer}${SSF_PATHS.poll}${encodeURIComponent(stream.id)}`,
      },
      ...(stream.description ? { description: stream.description } : {}),
      ...(stream.allSubjects ? { all_subjects: true } : {}),
    };
  }

  /** The receiver's members, onto the stream; read-only members (iss, aud, events_supported...) are ignored. */
  private async apply(stream: SsfStreamRecord, caller: Caller, input: Json, how: 'update' | 'replace') {
    const given = (name: string) => input[name] !== undefined || how === 'replace';
    if (given('events_requested')) {
      const requested = input.events_requested ?? [];
      if (!Array.isArray(requested) || requested.some((type) => typeof type !== 'string' || type.length > 256)) {
        throw badInput('events_requested must be a list of event type URIs.', 'events_requested');
      }
      // Those the transmitter supports, once each (events_delivered); any other is not delivered, as SSF says.
      const supported = (SSF_EVENTS_SUPPORTED as readonly string[]).filter((type) => requested.includes(type));
      stream.eventsRequested = storedEvents(supported);
    }
    if (given('description')) {
      stream.description = optionalText(input.description, 'description', LIMITS.ssfDescriptionMaxLength) ?? null;
    }
    if (given('all_subjects')) {
      const all = input.all_subjects ?? false;
      if (typeof all !== 'boolean') throw badInput('all_subjects must be true or false.', 'all_subjects');
      // Every user's events: only for a receiver whose token may read every user's.
      if (all && !hasScope(caller, 'twofactor:read')) {
        throw new AppError('FORBIDDEN', 'all_subjects needs a token that also holds twofactor:read.');
      }
      stream.allSubjects = all;
    }
    if (given('delivery')) {
      const delivery = object(input.delivery ?? { method: POLL_METHOD }, 'delivery');
      if (delivery.method === PUSH_METHOD) {
        if (typeof delivery.endpoint_url !== 'string') {
          throw badInput('delivery.endpoint_url is required for push.', 'delivery.endpoint_url');
        }
        if (delivery.authorization_header !== undefined) {
          throw badInput('delivery.authorization_header is not supported.', 'delivery.authorization_header');
        }
        // The webhooks' SSRF rules: https to public addresses only (unless private networks are allowed).
        stream.endpointUrl = await this.deps.policy.checkUrl(delivery.endpoint_url);
        stream.deliveryMethod = 'push';
      } else if (delivery.method === POLL_METHOD) {
        stream.endpointUrl = null;
        stream.deliveryMethod = 'poll';
      } else {
        throw badInput(`delivery.method must be ${PUSH_METHOD} or ${POLL_METHOD}.`, 'delivery.method');
      }
    }
    stream.updatedAt = this.deps.clock.now();
  }

  /** An iss_sub user (of AUTH_ISSUER) or a complex subject naming one user or one tenant (opaque). */
  private subjectKey(value: unknown): string {
    const subject = object(value, 'subject');
    if (subject.format === 'iss_sub') return userSubject(this.userIdOf(subject));
    if (subject.format === 'complex') {
      const { user, tenant } = subject;
      if (user !== undefined && tenant === undefined) return userSubject(this.userIdOf(object(user, 'subject.user')));
      if (tenant !== undefined && user === undefined) {
        const opaque = object(tenant, 'subject.tenant');
        if (opaque.format !== 'opaque') throw badInput('subject.tenant must be opaque.', 'subject.tenant');
        return tenantSubject(idIn(opaque.id, 'subject.tenant.id'));
      }
    }
    throw badInput('subject must be iss_sub, or complex with a user (iss_sub) or a tenant (opaque).', 'subject');
  }

  private userIdOf(subject: Json): string {
    if (subject.format !== 'iss_sub' || subject.iss !== this.deps.subjectIssuer) {
      throw badInput(`subject must be iss_sub with iss ${this.deps.subjectIssuer}.`, 'subject');
    }
    return idIn(subject.sub, 'subject.sub');
  }
}

function statusOf(stream: SsfStreamRecord): Json {
  return {
    stream_id: stream.id,
    status: stream.status,
    ...(stream.statusReason ? { reason: stream.statusReason } : {}),
  };
}

const streamNotFound = () => new AppError('NOT_FOUND', 'No such stream.');

function object(value: unknown, name = 'body'): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badInput(`${name} must be a JSON object.`, name);
  }
  return value as Json;
}

function required(streamId: string | undefined): string {
  if (streamId === undefined || streamId === '') throw badInput('stream_id is required.', 'stream_id');
  return streamId;
}

function streamIdIn(input: Json): string {
  if (typeof input.stream_id !== 'string') throw badInput('stream_id is required.', 'stream_id');
  return required(input.stream_id);
}

/** An id as the service stores them: 1 to 128 printable ASCII characters. */
function idIn(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(value)) {
    throw badInput(`${name} must be an id of 1 to 128 printable ASCII characters.`, name);
  }
  return value;
}

function optionalText(value: unknown, name: string, max = 255): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max)
    throw badInput(`${name} must be text of at most ${max} characters.`, name);
  return value;
}
