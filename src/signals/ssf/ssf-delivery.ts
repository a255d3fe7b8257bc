import { badInput } from '../../errors';
import type { Clock } from '../../infra/clock';
import type { Database } from '../../infra/db/database';
import { PeriodicJob } from '../../infra/jobs/periodic-job';
import type { Logger } from '../../infra/logger';
import type { OutboundSender } from '../../infra/outbound/outbound-sender';
import { nextAttemptAt } from '../../infra/outbound/retry-schedule';
import { LIMITS } from '../../limits';
import type { SetSigner } from './ssf-keys';
import type { SsfQueuedEventRecord, SsfStreamRecord } from './ssf.entities';
import type { SsfRepository } from './ssf.repository';

/**
 * Security Event Tokens (RFC 8417) from queued events: `iss` the transmitter,
 * `aud` the stream's, `jti` the event's id and its row's (unique per stream),
 * `iat` when the change committed, `sub_id` the subject (SSF 1.0 §3): iss_sub
 * for a user, complex with the tenant for an organization's event, the stream
 * (opaque) for a verification. Nothing else: no code, secret, token, phone
 * number or free text is ever queued (ssf-events.ts).
 */
export class SetBuilder {
  constructor(
    private readonly signer: SetSigner,
    private readonly issuer: string,
    private readonly subjectIssuer: string,
  ) {}

  static jtiOf(row: Pick<SsfQueuedEventRecord, 'eventId' | 'id'>): string {
    return `${row.eventId}.${row.id}`;
  }

  static rowOf(jti: string): { eventId: string; id: string } | null {
    const match = /^([A-Za-z0-9_-]{1,32})\.([0-9]{1,20})$/.exec(jti);
    return match ? { eventId: match[1], id: match[2] } : null;
  }

  sign(stream: Pick<SsfStreamRecord, 'id' | 'audience'>, row: SsfQueuedEventRecord): Promise<string> {
    const user = row.userId ? { format: 'iss_sub', iss: this.subjectIssuer, sub: row.userId } : null;
    const subject = !user
      ? { format: 'opaque', id: stream.id }
      : row.organizationId
        ? { format: 'complex', user, tenant: { format: 'opaque', id: row.organizationId } }
        : user;
    return this.signer.sign({
      iss: this.issuer,
      jti: SetBuilder.jtiOf(row),
      iat: Math.floor(row.createdAt.getTime() / 1000),
      aud: stream.audience,
      sub_id: subject,
      events: { [row.eventType]: JSON.parse(row.claims) as unknown },
    });
  }
}

/**
 * Push delivery (RFC 8935): every poll interval, each enabled push stream's due
 * events are claimed under a lease (SKIP LOCKED: instances share the work) and
 * POSTed as `application/secevent+jwt` through the webhooks' sender, under
 * their SSRF guard, one after another per stream; a 2xx removes the event, a
 * failure is retried on the webhooks' schedule until it gives up. A paused
 * stream's events wait; a disabled stream has none.
 */
export class SsfPusher extends PeriodicJob {
  constructor(
    private readonly deps: {
      database: Database;
      repository: SsfRepository;
      sender: OutboundSender;
      sets: SetBuilder;
      clock: Clock;
      logger: Logger;
      pollIntervalMs: number;
    },
  ) {
    super('ssf-push', deps.pollIntervalMs, () => this.round(), deps.logger);
  }

  /** One round: claim, send, record. Returns how many attempts it made. */
  async round(): Promise<number> {
    const { database, repository, clock } = this.deps;
    const now = clock.now();
    const leaseEnd = new Date(now.getTime() + LIMITS.webhookLeaseSeconds * 1000);
    const claimed = await database.transaction(async (manager) => {
      const streams = await repository.pushStreams(manager);
      const work: { stream: SsfStreamRecord; rows: SsfQueuedEventRecord[] }[] = [];
      for (const stream of streams) {
        const rows = await repository.claimDue(manager, stream.id, now, leaseEnd, LIMITS.ssfPushBatch);
        if (rows.length > 0) work.push({ stream, rows });
      }
      return work;
    });
    const attempts = await Promise.all(claimed.map(({ stream, rows }) => this.sendAll(stream, rows)));
    return attempts.reduce((sum, count) => sum + count, 0);
  }

  private async sendAll(stream: SsfStreamRecord, rows: SsfQueuedEventRecord[]): Promise<number> {
    const { database, repository, sender, sets, clock, logger } = this.deps;
    let made = 0;
    for (const row of rows) {
      const set = await sets.sign(stream, row);
      const started = clock.now();
      const result = await sender.send(
        stream.endpointUrl ?? '',
        { 'content-type': 'application/secevent+jwt', accept: 'application/json' },
        set,
      );
      made += 1;
      const firstAttemptAt = row.firstAttemptAt ?? started;
      const next = result.error === null ? null : nextAttemptAt(row.attempts + 1, firstAttemptAt, clock.now());
      await database.transaction(async (manager) => {
        if (result.error === null || next === null) await repository.deliveredOrDropped(manager, row);
        else await repository.retryAt(manager, row, next, firstAttemptAt, result.error);
      });
      if (result.error !== null && next === null) {
        logger.warn({ streamId: stream.id, attempts: row.attempts + 1 }, 'a Security Event Token was given up');
      }
      // A stream that fails now: its other events wait for the next round rather than pile on.
      if (result.error !== null) break;
    }
    return made;
  }
}

/** RFC 8936's request: acknowledgements, errors, how many to return, whether to wait. */
export interface PollRequest {
  ack: string[];
  setErrs: string[];
  maxEvents: number;
  returnImmediately: boolean;
}

export function parsePollRequest(body: unknown): PollRequest {
  const input = (body ?? {}) as Record<string, unknown>;
  if (typeof input !== 'object' || Array.isArray(input)) throw badInput('The body must be a JSON object.');
  const ack = input.ack ?? [];
  if (!Array.isArray(ack) || ack.some((jti) => typeof jti !== 'string') || ack.length > LIMITS.ssfMaxPollEvents) {
    throw badInput(`ack must be a list of at most ${LIMITS.ssfMaxPollEvents} jti.`, 'ack');
  }
  const errors = input.setErrs ?? {};
  if (typeof errors !== 'object' || errors === null || Array.isArray(errors)) {
    throw badInput('setErrs must be an object keyed by jti.', 'setErrs');
  }
  const maxEvents = input.maxEvents ?? LIMITS.ssfDefaultPollEvents;
  if (!Number.isInteger(maxEvents) || (maxEvents as number) < 0 || (maxEvents as number) > LIMITS.ssfMaxPollEvents) {
    throw badInput(`maxEvents must be from 0 to ${LIMITS.ssfMaxPollEvents}.`, 'maxEvents');
  }
  const returnImmediately = input.returnImmediately ?? false;
  if (typeof returnImmediately !== 'boolean')
    throw badInput('returnImmediately must be true or false.', 'returnImmediately');
  return { ack: ack as string[], setErrs: Object.keys(errors), maxEvents: maxEvents as number, returnImmediately };
}

/**
 * Poll delivery (RFC 8936): acknowledged SETs (and those reported in error) go;
 * the oldest others are returned, up to maxEvents, until acknowledged. A paused
 * stream returns none (they are held); a long poll waits for one.
 */
export class SsfPoller {
  constructor(
    private readonly deps: {
      database: Database;
      repository: SsfRepository;
      sets: SetBuilder;
      clock: Clock;
      /** Time between looks while a long poll waits. */
      waitStepMs?: number;
    },
  ) {}

  async poll(
    stream: SsfStreamRecord,
    request: PollRequest,
    closed: () => boolean,
  ): Promise<{ sets: Record<string, string>; moreAvailable: boolean }> {
    const { database, repository, sets } = this.deps;
    const done = [...request.ack, ...request.setErrs].flatMap((jti) => SetBuilder.rowOf(jti) ?? []);
    if (done.length > 0) await database.transaction((manager) => repository.acknowledge(manager, stream.id, done));
    if (request.maxEvents === 0) return { sets: {}, moreAvailable: false };
    const waitUntil = Date.now() + (request.returnImmediately ? 0 : LIMITS.ssfLongPollSeconds * 1000);
    for (;;) {
      const current = await database.run((manager) => repository.find(manager, stream.id));
      const rows =
        current?.status === 'enabled'
          ? await database.run((manager) => repository.oldest(manager, stream.id, request.maxEvents + 1))
          : [];
      if (rows.length > 0 || Date.now() >= waitUntil || closed()) {
        const page = rows.slice(0, request.maxEvents);
        const signed: Record<string, string> = {};
        for (const row of page) signed[SetBuilder.jtiOf(row)] = await sets.sign(current ?? stream, row);
        return { sets: signed, moreAvailable: rows.length > request.maxEvents };
      }
      await new Promise((resolve) => setTimeout(resolve, this.deps.waitStepMs ?? 250));
    }
  }
}
