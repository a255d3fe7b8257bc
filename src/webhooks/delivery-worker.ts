import { createHmac, createSecretKey, type KeyObject, randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log';
import type { Clock } from '../infra/clock';
import { systemClock } from '../infra/clock';
import { CiphertextRefused, type SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import type { OutboundSender } from '../infra/outbound/outbound-sender';
import { nextAttemptAt } from '../infra/outbound/retry-schedule';
import { LIMITS } from '../limits';
import { webhookSecretBinding } from './webhook.entities';
import type {
  ClaimedDelivery,
  ClaimKey,
  ClaimRoom,
  Outcome,
  OutcomeKind,
  SendingEndpoint,
  WebhookRepository,
} from './webhook.repository';

const SLOTS = LIMITS.webhookMaxInFlightPerEndpoint;
/** What an endpoint whose pace this instance does not know yet may have claimed here: its slots, and a few waiting. */
const CLAIMED_PER_ENDPOINT = SLOTS + LIMITS.webhookClaimedAheadPerEndpoint;
/** Every endpoint's, at most (the attempts in flight are LIMITS.webhookMaxInFlight at most). */
const MAX_CLAIMED = LIMITS.webhookMaxEndpoints * (SLOTS + LIMITS.webhookMaxClaimedAheadPerEndpoint);
const TIMEOUT_MS = LIMITS.webhookTimeoutSeconds * 1000;
const LEASE_MS = LIMITS.webhookLeaseSeconds * 1000;
/** A claim waiting for a slot starts only with this much of its lease left: its attempt, then its outcome's recording. */
const START_MARGIN_MS = TIMEOUT_MS + LIMITS.webhookRecordWithinMs;
/** How long an endpoint's claims waiting for a slot may take to start, at its pace (the rest of the lease is the margin's). */
const AHEAD_BUDGET_MS = LEASE_MS - 2 * TIMEOUT_MS;

/** Deliveries by what an attempt came to: delivered, retried later, failed for good, or the endpoint disabled (410). */
export type DeliveryOutcome = 'delivered' | 'retried' | 'failed' | 'disabled';

/** What a round did, for settle(). */
interface RoundSummary {
  claimed: number;
  fannedOut: number;
  recorded: number;
}
const NOTHING: RoundSummary = { claimed: 0, fannedOut: 0, recorded: 0 };

export interface DeliveryWorkerDependencies {
  database: Database;
  repository: WebhookRepository;
  sender: OutboundSender;
  secrets: SecretBox;
  /** Schedules: when a delivery is due, leases, retries. */
  clock: Clock;
  /** The `webhook-timestamp` of each attempt: the wall clock, as receivers check it against theirs. */
  wallClock?: Clock;
  logger: Logger;
  /** Records the service disabling an endpoint (410). */
  audit?: AuditLog;
  pollIntervalMs: number;
  /** Told of each attempt's outcome (metrics). */
  onOutcome?: (outcome: DeliveryOutcome) => void;
  random?: () => number;
}

/**
 * Standard Webhooks signing under one endpoint secret (`whsec_` and base64), as
 * the standardwebhooks package's `Webhook.sign` does it, with node:crypto's HMAC:
 * the package's pure-JS SHA-256 cost each attempt about 25 µs
 * (test/webhooks/signature.test.ts checks it against the package).
 */
export class WebhookSigner {
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret.replace(/^whsec_/, ''), 'base64'));
  }

  sign(webhookId: string, timestamp: Date, payload: string): string {
    const signed = `${webhookId}.${Math.floor(timestamp.getTime() / 1000)}.${payload}`;
    return `v1,${createHmac('sha256', this.key).update(signed).digest('base64')}`;
  }
}

/** The Standard Webhooks signatures of one attempt: under the current secret, and the previous one while it lasts. */
export function sign(signers: WebhookSigner[], webhookId: string, timestamp: Date, payload: string): string {
  return signers.map((signer) => signer.sign(webhookId, timestamp, payload)).join(' ');
}

/**
 * Delivers the outbox, on every instance (docs/adr/0008-webhook-outbox.md,
 * docs/adr/0019-outbox-one-row-per-event.md). A round is one short transaction
 * (WebhookRepository.round): it records the outcomes of the attempts made since
 * the last one, fans the new events out to the endpoints (claiming, for each
 * endpoint with room here, its deliveries as it inserts them) and claims the
 * due deliveries (FOR UPDATE SKIP LOCKED on MySQL: instances never claim the
 * same row), leased for LIMITS.webhookLeaseSeconds. Attempts are sent outside
 * any transaction, signed, within the time-out.
 *
 * An instance that dies loses nothing: its claims lapse and are claimed again,
 * and an outcome it had not recorded yet means one more attempt (at least
 * once). Each endpoint has its own slots here (LIMITS.webhookMaxInFlightPerEndpoint):
 * a receiver that is slow or hangs holds only those, so the others' deliveries
 * go on as if it did not exist; its backlog costs rows, not memory. Beyond its
 * slots an endpoint has claims waiting for one, as many as its pace lets start
 * well inside their lease (LIMITS.webhookClaimedAheadPerEndpoint to
 * LIMITS.webhookMaxClaimedAheadPerEndpoint): a busy, fast endpoint is served by
 * few, large rounds.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires (ms since the epoch); Infinity when none is set. */
  private timerAt = Infinity;
  private running = false;
  private stopping = false;
  private ticking: Promise<void> | undefined;
  /** Attempts in flight, by claim (event and endpoint). */
  private readonly inFlight = new Map<string, { delivery: ClaimedDelivery; done: Promise<void> }>();
  private readonly inFlightPerEndpoint = new Map<string, number>();
  /** Claimed, waiting for a slot of their endpoint: endpoint id -> deliveries, oldest first. */
  private readonly waiting = new Map<string, ClaimedDelivery[]>();
  /** Outcomes of attempts, recorded together by the next round. */
  private outcomes: Outcome[] = [];
  /** Endpoints that had claimed all they may: the next round starts when their waiting claims have all started. */
  private readonly refill = new Set<string>();
  /** Per endpoint: how long its attempts take here (ms, a moving average). */
  private readonly pace = new Map<string, number>();
  /** Signers by endpoint and secret ciphertext (opened once, not per attempt); only the current endpoints' are kept. */
  private readonly signers = new Map<string, WebhookSigner>();
  /** The last round found work: the next one skips the probe. */
  private busyRound = false;
  /** Rounds run one at a time (the poll's, a wake's, runOnce's, settle's): each sees what the one before claimed. */
  private rounds: Promise<unknown> = Promise.resolve();
  private roundsWaiting = 0;
  private tickInProgress = false;
  private wakeRequested = false;
  private abort = new AbortController();
  private lastProblemLoggedAt = 0;

  constructor(private readonly deps: DeliveryWorkerDependencies) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.abort = new AbortController();
    this.schedule(0);
  }

  /**
   * Stops claiming; gives back the claims still waiting for a slot; waits up to
   * `graceMs` for attempts in flight, then aborts them and gives their claims
   * back; records every outcome.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timerAt = Infinity;
    await this.ticking;
    await this.rounds;
    for (const queue of this.waiting.values()) for (const delivery of queue) this.release(delivery);
    this.waiting.clear();
    this.refill.clear();
    const pending = [...this.inFlight.values()].map((entry) => entry.done);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), grace]);
    if (this.inFlight.size > 0) {
      this.abort.abort();
      await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    }
    await this.flush();
    this.running = false;
  }

  /**
   * One round: record the outcomes so far, fan out new events and claim what is
   * due (of each endpoint as much as it may have claimed here), and start
   * sending what has a slot. Returns how many it claimed. Rounds run one after
   * another, whoever asks.
   */
  async runOnce(): Promise<number> {
    return (await this.runRound()).claimed;
  }

  private runRound(): Promise<RoundSummary> {
    this.roundsWaiting += 1;
    const round = this.rounds.then(() => this.round()).finally(() => (this.roundsWaiting -= 1));
    this.rounds = round.catch(() => undefined);
    return round;
  }

  /** No round running or waiting, no attempt in flight or waiting, no outcome unrecorded: this instance is doing nothing. */
  get quiet(): boolean {
    return (
      this.roundsWaiting === 0 && this.inFlight.size === 0 && this.waiting.size === 0 && this.outcomes.length === 0
    );
  }

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
  }

  /**
   * Resolves once this instance has fanned out every event it may take, attempted
   * everything due by the clock's "now" that it may claim, and recorded each
   * outcome: rounds, each awaited, until one finds nothing with nothing in
   * flight or unrecorded. What comes due later (a retry, a lapsed lease, a new
   * event) needs another call. It follows the worker's own progress, not the
   * clock, so tests wait with it; an attempt that hangs holds it until the
   * attempt's time-out.
   */
  async settle(): Promise<void> {
    for (;;) {
      await this.idle();
      const round = await this.runRound();
      const found = round.claimed + round.fannedOut + round.recorded;
      if (found === 0 && this.inFlight.size === 0 && this.outcomes.length === 0) return;
    }
  }

  private async round(): Promise<RoundSummary> {
    if (this.stopping) return NOTHING;
    const { database, repository, clock } = this.deps;
    this.releaseStale(clock.now());
    const room = this.room(clock.now());
    if (this.outcomes.length === 0 && !this.busyRound && !(await repository.anyDue(clock.now(), room))) return NOTHING;
    const outcomes = this.outcomes;
    this.outcomes = [];
    const token = randomUUID();
    let round;
    try {
      round = await database.transaction((manager) => {
        const now = clock.now();
        return repository.round(manager, {
          now,
          room,
          token,
          leaseUntil: new Date(now.getTime() + LEASE_MS),
          outcomes,
        });
      });
    } catch (error) {
      // Recorded by the next round; if none comes, their claims lapse and the deliveries are sent again.
      this.outcomes = [...outcomes, ...this.outcomes];
      this.busyRound = false;
      throw error;
    }
    this.counted(round.recorded);
    this.forget(round.endpoints);
    this.refreshWaiting(round.endpoints);
    this.busyRound = round.claimed.length > 0 || round.moreToFanOut;
    const claimed = new Map<string, number>();
    for (const delivery of round.claimed) {
      const queue = this.waiting.get(delivery.endpointId) ?? [];
      queue.push(delivery);
      this.waiting.set(delivery.endpointId, queue);
      claimed.set(delivery.endpointId, (claimed.get(delivery.endpointId) ?? 0) + 1);
    }
    for (const [endpointId, count] of claimed) {
      // All the room it had: more may be due; the next round comes once it has room for a batch again.
      const given = (room.limits?.get(endpointId) ?? room.perEndpoint) - (room.busy.get(endpointId)?.length ?? 0);
      if (count >= given) this.refill.add(endpointId);
      this.startWaiting(endpointId);
    }
    // The outbox had more than a round takes: the next round now.
    if (round.moreToFanOut) this.wake();
    return { claimed: round.claimed.length, fannedOut: round.fannedOut, recorded: outcomes.length };
  }

  /** Outcomes alone (stopping): in a transaction of their own. */
  private async flush(): Promise<void> {
    if (this.outcomes.length === 0) return;
    const outcomes = this.outcomes;
    this.outcomes = [];
    const { database, repository, clock } = this.deps;
    try {
      this.counted(await database.transaction((manager) => repository.record(manager, outcomes, clock.now())));
    } catch (error) {
      this.outcomes = [...outcomes, ...this.outcomes];
      this.problem(error, 'webhooks: could not record the last attempts; their claims lapse and they are sent again');
    }
  }

  private counted(recorded: Record<OutcomeKind, number>): void {
    for (const kind of ['delivered', 'retried', 'failed'] as const)
      for (let i = 0; i < recorded[kind]; i += 1) this.deps.onOutcome?.(kind);
  }

  /**
   * What this round may claim: of each endpoint, what its pace allows less what
   * is claimed here; and the claims held here past their lease (never claimed
   * again by this instance while it holds them).
   */
  private room(now: Date): ClaimRoom {
    const busy = new Map<string, string[]>();
    const lapsed = new Map<string, string[]>();
    const add = (map: Map<string, string[]>, delivery: ClaimedDelivery) => {
      const ids = map.get(delivery.endpointId);
      if (ids) ids.push(delivery.eventId);
      else map.set(delivery.endpointId, [delivery.eventId]);
    };
    for (const { delivery } of this.inFlight.values()) {
      add(busy, delivery);
      if (delivery.leaseUntil <= now) add(lapsed, delivery);
    }
    for (const queue of this.waiting.values()) for (const delivery of queue) add(busy, delivery);
    const limits = new Map<string, number>();
    for (const endpointId of this.pace.keys()) limits.set(endpointId, this.allowance(endpointId));
    return { total: MAX_CLAIMED - this.claimedHere(), perEndpoint: CLAIMED_PER_ENDPOINT, limits, busy, lapsed };
  }

  /**
   * What an endpoint may have claimed here: its slots, and as many waiting as
   * its slots would start within AHEAD_BUDGET_MS at its pace (an endpoint not
   * seen yet is taken to use its whole time-out).
   */
  private allowance(endpointId: string): number {
    const pace = Math.max(1, this.pace.get(endpointId) ?? TIMEOUT_MS);
    const ahead = Math.floor((SLOTS * AHEAD_BUDGET_MS) / pace);
    return (
      SLOTS + Math.min(LIMITS.webhookMaxClaimedAheadPerEndpoint, Math.max(LIMITS.webhookClaimedAheadPerEndpoint, ahead))
    );
  }

  private paced(endpointId: string, ms: number): void {
    const pace = this.pace.get(endpointId);
    this.pace.set(endpointId, pace === undefined ? ms : pace * 0.7 + ms * 0.3);
  }

  /** Starts the endpoint's waiting deliveries while it has a free slot. */
  private startWaiting(endpointId: string): void {
    const queue = this.waiting.get(endpointId);
    const now = this.deps.clock.now().getTime();
    while (!this.stopping && queue && queue.length > 0 && this.inFlightOf(endpointId) < SLOTS) {
      const delivery = queue.shift()!;
      // Too near the end of its lease to finish and be recorded inside it: back, for whoever claims it next.
      if (delivery.leaseUntil.getTime() - now < START_MARGIN_MS) {
        this.release(delivery);
        continue;
      }
      const key = keyOf(delivery);
      this.inFlightPerEndpoint.set(endpointId, this.inFlightOf(endpointId) + 1);
      const done = this.deliver(delivery).finally(() => {
        this.inFlight.delete(key);
        this.inFlightPerEndpoint.set(endpointId, this.inFlightOf(endpointId) - 1);
        this.startWaiting(endpointId);
        this.recordSoon();
      });
      this.inFlight.set(key, { delivery, done });
    }
    if (queue && queue.length === 0) this.waiting.delete(endpointId);
    // Room for a batch again (half of what it may have claimed, its slots at least): the next round now,
    // while what is left keeps its slots busy.
    if (this.refill.has(endpointId)) {
      const allowance = this.allowance(endpointId);
      if (allowance - this.claimedOf(endpointId) >= Math.max(SLOTS, Math.floor(allowance / 2))) {
        this.refill.delete(endpointId);
        this.wake();
      }
    }
  }

  /**
   * Claims waiting here go out as their endpoint is now: its URL and secrets as
   * this round read them; none to an endpoint disabled or deleted since (its
   * queue was failed, or went, with it).
   */
  private refreshWaiting(endpoints: SendingEndpoint[]): void {
    const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]));
    for (const [endpointId, queue] of this.waiting) {
      const endpoint = byId.get(endpointId);
      if (!endpoint?.enabled) {
        this.waiting.delete(endpointId);
        this.refill.delete(endpointId);
        continue;
      }
      for (const delivery of queue) delivery.endpoint = endpoint;
    }
  }

  /** Waiting claims whose lease is too near its end to start go back (each round looks). */
  private releaseStale(now: Date): void {
    for (const [endpointId, queue] of this.waiting) {
      const fresh = queue.filter((delivery) => {
        if (delivery.leaseUntil.getTime() - now.getTime() >= START_MARGIN_MS) return true;
        this.release(delivery);
        return false;
      });
      if (fresh.length === queue.length) continue;
      if (fresh.length > 0) this.waiting.set(endpointId, fresh);
      else this.waiting.delete(endpointId);
    }
  }

  private release(delivery: ClaimKey): void {
    this.outcomes.push({ kind: 'released', ...claimOf(delivery) });
  }

  private claimedHere(): number {
    let count = this.inFlight.size;
    for (const queue of this.waiting.values()) count += queue.length;
    return count;
  }

  private claimedOf(endpointId: string): number {
    return this.inFlightOf(endpointId) + (this.waiting.get(endpointId)?.length ?? 0);
  }

  private inFlightOf(endpointId: string): number {
    return this.inFlightPerEndpoint.get(endpointId) ?? 0;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timerAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timerAt = Infinity;
      this.ticking = this.tick();
    }, delayMs);
    // The server keeps the process alive; an idle worker alone does not.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.tickInProgress = true;
    this.wakeRequested = false;
    try {
      await this.runRound();
    } catch (error) {
      this.problem(error, 'webhooks: a round failed (outcomes, fan-out, claims); trying again');
    } finally {
      this.tickInProgress = false;
    }
    // An endpoint asked for its next round meanwhile: now. Outcomes to record: within
    // LIMITS.webhookRecordWithinMs. Otherwise the next poll.
    this.schedule(this.wakeRequested ? 0 : this.outcomes.length > 0 ? this.recordWithinMs() : this.deps.pollIntervalMs);
  }

  private recordWithinMs(): number {
    return Math.min(this.deps.pollIntervalMs, LIMITS.webhookRecordWithinMs);
  }

  /** An attempt ended: its outcome is recorded by a round within LIMITS.webhookRecordWithinMs, with the others'. */
  private recordSoon(): void {
    if (!this.running || this.stopping || this.tickInProgress || this.outcomes.length === 0) return;
    if (this.timerAt <= Date.now() + this.recordWithinMs()) return;
    clearTimeout(this.timer);
    this.schedule(this.recordWithinMs());
  }

  /** An endpoint's waiting claims have all started: its next round now, not at the next poll (one round at a time). */
  private wake(): void {
    if (!this.running || this.stopping) return;
    if (this.tickInProgress) {
      this.wakeRequested = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    try {
      await this.attempt(delivery);
    } catch (error) {
      // The claim lapses and the delivery is sent again: at least once.
      this.problem(error, 'webhooks: an attempt failed unexpectedly; it will be made again');
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { clock } = this.deps;
    const endpoint = delivery.endpoint;
    const claim = claimOf(delivery);
    if (!endpoint || !endpoint.enabled) {
      this.outcomes.push({ kind: 'failed', ...claim, status: null, error: 'endpoint disabled' });
      return;
    }
    const signers = this.signersOf(endpoint, clock.now());
    if (!signers) {
      // Nothing is signed with a secret that does not open for its endpoint: a failed attempt, retried (audited elsewhere).
      const next = nextAttemptAt(delivery.attempts, delivery.seriesStartedAt, clock.now(), this.deps.random);
      const error = 'the signing secret cannot be decrypted';
      this.outcomes.push(
        next === null
          ? { kind: 'failed', ...claim, status: null, error: `${error}; gave up` }
          : { kind: 'retried', ...claim, status: null, error, nextAttemptAt: next },
      );
      return;
    }
    const timestamp = (this.deps.wallClock ?? systemClock).now();
    const headers = {
      'webhook-id': delivery.webhookId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': sign(signers, delivery.webhookId, timestamp, delivery.payload),
    };
    const started = performance.now();
    const result = await this.deps.sender.send(endpoint.url, headers, delivery.payload, this.abort.signal);
    if (this.abort.signal.aborted && result.status === null) {
      // Stopped mid-attempt: not an attempt; another instance (or this one, restarted) sends it.
      this.release(delivery);
      return;
    }
    this.paced(endpoint.id, performance.now() - started);
    if (result.error === null) {
      this.outcomes.push({ kind: 'delivered', ...claim, status: result.status! });
      return;
    }
    if (result.status === 410) return this.disable(delivery, endpoint.id);
    const next = nextAttemptAt(delivery.attempts, delivery.seriesStartedAt, clock.now(), this.deps.random);
    this.outcomes.push(
      next === null
        ? { kind: 'failed', ...claim, status: result.status, error: `${result.error}; gave up` }
        : { kind: 'retried', ...claim, status: result.status, error: result.error, nextAttemptAt: next },
    );
  }

  /**
   * Gone (410): the receiver asks for no more. In a transaction of its own, at
   * once: the endpoint is disabled and everything queued for it fails; its
   * claims waiting here are dropped (failed with the rest).
   */
  private async disable(delivery: ClaimedDelivery, endpointId: string): Promise<void> {
    const { database, repository, clock } = this.deps;
    await database.transaction(async (manager) => {
      const now = clock.now();
      await repository.failed(manager, claimOf(delivery), 410, 'HTTP 410: the endpoint was disabled');
      await repository.updateEndpoint(manager, endpointId, {
        enabled: false,
        disabledReason: 'answered 410 Gone',
        updatedAt: now,
      });
      await repository.failPending(manager, endpointId, 'endpoint disabled (it answered 410)');
      await this.deps.audit?.record(
        manager,
        { actorId: null, clientIp: null },
        { action: 'WEBHOOK_ENDPOINT_DISABLED', reason: `endpoint ${endpointId} answered 410 Gone` },
        now,
      );
    });
    this.waiting.delete(endpointId);
    this.refill.delete(endpointId);
    this.deps.logger.warn({ endpointId }, 'webhooks: an endpoint answered 410 Gone; it is disabled');
    this.deps.onOutcome?.('disabled');
  }

  /** The endpoint's signers (the previous secret's too while it overlaps); null when a secret does not open for it. */
  private signersOf(endpoint: SendingEndpoint, now: Date): WebhookSigner[] | null {
    try {
      const signers = [this.signer(endpoint.id, endpoint.secretCiphertext)];
      if (
        endpoint.previousSecretCiphertext &&
        endpoint.previousSecretExpiresAt &&
        endpoint.previousSecretExpiresAt > now
      )
        signers.push(this.signer(endpoint.id, endpoint.previousSecretCiphertext));
      return signers;
    } catch (error) {
      if (error instanceof CiphertextRefused) return null;
      throw error;
    }
  }

  /** Opened once per endpoint and ciphertext: a ciphertext is bound to its endpoint (ADR 0022). */
  private signer(endpointId: string, ciphertext: string): WebhookSigner {
    const key = signerKey(endpointId, ciphertext);
    let signer = this.signers.get(key);
    if (!signer) {
      signer = new WebhookSigner(this.deps.secrets.open(ciphertext, webhookSecretBinding(endpointId)));
      this.signers.set(key, signer);
    }
    return signer;
  }

  /** Only the endpoints as they are now keep a pace and decrypted secrets here. */
  private forget(endpoints: SendingEndpoint[]): void {
    const ids = new Set(endpoints.map((endpoint) => endpoint.id));
    for (const endpointId of this.pace.keys()) if (!ids.has(endpointId)) this.pace.delete(endpointId);
    const secrets = new Set(
      endpoints.flatMap((endpoint) =>
        [endpoint.secretCiphertext, endpoint.previousSecretCiphertext].map((ciphertext) =>
          signerKey(endpoint.id, ciphertext),
        ),
      ),
    );
    for (const key of this.signers.keys()) if (!secrets.has(key)) this.signers.delete(key);
  }

  /** Logged at most once a minute: a database that is down for an hour writes 60 lines, not 3600. */
  private problem(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastProblemLoggedAt < 60_000) return;
    this.lastProblemLoggedAt = now;
    this.deps.logger.warn({ err: error }, message);
  }
}

const keyOf = (delivery: ClaimKey) => `${delivery.eventId} ${delivery.endpointId}`;
const claimOf = ({ eventId, endpointId, token }: ClaimKey): ClaimKey => ({ eventId, endpointId, token });

const signerKey = (endpointId: string, ciphertext: string | null): string => `${endpointId}\n${ciphertext}`;
