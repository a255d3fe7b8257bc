import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { AuditLog } from '../audit/audit-log';
import type { Clock } from '../infra/clock';
import { systemClock } from '../infra/clock';
import { CiphertextRefused, type SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { AttemptResult, WebhookSender } from './webhook-sender';
import { webhookSecretBinding } from './webhook.entities';
import type { ClaimedDelivery, WebhookRepository } from './webhook.repository';

/** Each endpoint's claims here: its slots, and those waiting for one. */
const CLAIMED_PER_ENDPOINT = LIMITS.webhookMaxInFlightPerEndpoint + LIMITS.webhookClaimedAheadPerEndpoint;
/** Every endpoint's (the attempts in flight are LIMITS.webhookMaxInFlight at most). */
const MAX_CLAIMED = (LIMITS.webhookMaxInFlight / LIMITS.webhookMaxInFlightPerEndpoint) * CLAIMED_PER_ENDPOINT;

/** Deliveries by what an attempt came to: delivered, retried later, failed for good, or the endpoint disabled (410). */
export type DeliveryOutcome = 'delivered' | 'retried' | 'failed' | 'disabled';

export interface DeliveryWorkerDependencies {
  database: Database;
  repository: WebhookRepository;
  sender: WebhookSender;
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
 * When the attempt after `attempts` failed ones is due, or null when the series
 * gives up: the contract's schedule (about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * then every 10 h), each delay jittered by ±20 %, for 3 days from the series'
 * first attempt.
 */
export function nextAttemptAt(
  attempts: number,
  seriesStartedAt: Date,
  now: Date,
  random: () => number = Math.random,
): Date | null {
  const delays = LIMITS.webhookRetryDelaysSeconds;
  const base = delays[Math.min(Math.max(attempts, 1), delays.length) - 1];
  const jitter = 1 + LIMITS.webhookRetryJitter * (2 * random() - 1);
  const next = new Date(now.getTime() + Math.round(base * jitter * 1000));
  return next.getTime() - seriesStartedAt.getTime() > LIMITS.webhookGiveUpAfterSeconds * 1000 ? null : next;
}

/** The Standard Webhooks signatures of one attempt: under the current secret, and the previous one while it lasts. */
export function sign(secrets: string[], webhookId: string, timestamp: Date, payload: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(webhookId, timestamp, payload)).join(' ');
}

/**
 * Delivers the outbox, on every instance (docs/adr/0008-webhook-outbox.md):
 * 1. claims due deliveries in a short transaction (SELECT … FOR UPDATE SKIP
 *    LOCKED on MySQL: instances never claim the same row), leased for
 *    LIMITS.webhookLeaseSeconds, and commits;
 * 2. sends each one outside any transaction, signed, within the time-out;
 * 3. records each outcome in its own short transaction, under the claim's token.
 * An instance that dies between 1 and 3 loses nothing: its claims lapse and are
 * claimed again. Each endpoint has its own slots here
 * (LIMITS.webhookMaxInFlightPerEndpoint): a receiver that is slow or hangs
 * holds only those, so the others' deliveries go on as if it did not exist;
 * its backlog costs queued rows, not memory or connections. A few more of each
 * endpoint's are claimed ahead (LIMITS.webhookClaimedAheadPerEndpoint) and wait
 * here for a slot, so a busy endpoint's next attempt starts as one ends.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopping = false;
  private ticking: Promise<void> | undefined;
  private readonly inFlight = new Map<string, { token: string; endpointId: string; done: Promise<void> }>();
  /** Claimed, waiting for a slot of their endpoint: endpoint id -> deliveries, oldest first. */
  private readonly waiting = new Map<string, { delivery: ClaimedDelivery; token: string }[]>();
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
   * `graceMs` for attempts in flight, then aborts them and gives their claims back.
   */
  async stop(graceMs = 2_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.rounds;
    await this.releaseWaiting();
    const pending = [...this.inFlight.values()].map((entry) => entry.done);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), grace]);
    if (this.inFlight.size > 0) {
      this.abort.abort();
      await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    }
    this.running = false;
  }

  /**
   * One round: claim what is due (as much as there is room for, of each endpoint
   * its slots and as many to wait for one) and start sending what has a slot.
   * Returns how many it claimed. Rounds run one after another, whoever asks.
   */
  runOnce(): Promise<number> {
    this.roundsWaiting += 1;
    const round = this.rounds.then(() => this.round()).finally(() => (this.roundsWaiting -= 1));
    this.rounds = round.catch(() => undefined);
    return round;
  }

  /** No round running or waiting, no attempt in flight or waiting: this instance is doing nothing right now. */
  get quiet(): boolean {
    return this.roundsWaiting === 0 && this.inFlight.size === 0 && this.waiting.size === 0;
  }

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
  }

  /**
   * Resolves once this instance has attempted everything due by the clock's
   * "now" that it may claim, and recorded each outcome: rounds, each awaited,
   * until one claims nothing with nothing in flight. What comes due later (a
   * retry, a lapsed lease, a new event) needs another call. It follows the
   * worker's own progress, not the clock, so tests wait with it; an attempt that
   * hangs holds it until the attempt's time-out.
   */
  async settle(): Promise<void> {
    for (;;) {
      await this.idle();
      const claimed = await this.runOnce();
      if (claimed === 0 && this.inFlight.size === 0) return;
    }
  }

  private async round(): Promise<number> {
    const free = MAX_CLAIMED - this.claimedHere();
    if (free <= 0 || this.stopping) return 0;
    const { database, repository, clock } = this.deps;
    const room = { total: free, perEndpoint: CLAIMED_PER_ENDPOINT, busy: this.busy() };
    if (!(await repository.anyDue(clock.now(), room))) return 0;
    const token = randomUUID();
    const claimed = await database.transaction((manager) => {
      const now = clock.now();
      const leaseUntil = new Date(now.getTime() + LIMITS.webhookLeaseSeconds * 1000);
      return repository.claim(manager, now, room, token, leaseUntil);
    });
    for (const delivery of claimed) {
      const queue = this.waiting.get(delivery.endpointId) ?? [];
      queue.push({ delivery, token });
      this.waiting.set(delivery.endpointId, queue);
    }
    for (const endpointId of new Set(claimed.map((delivery) => delivery.endpointId))) this.startWaiting(endpointId);
    return claimed.length;
  }

  /** Starts the endpoint's waiting deliveries while it has a free slot. */
  private startWaiting(endpointId: string): void {
    const queue = this.waiting.get(endpointId);
    while (
      !this.stopping &&
      queue &&
      queue.length > 0 &&
      this.inFlightOf(endpointId) < LIMITS.webhookMaxInFlightPerEndpoint
    ) {
      const { delivery, token } = queue.shift()!;
      const done = this.deliver(delivery, token).finally(() => {
        // The endpoint (or the worker) had claimed all it may: the next round now, to claim what is due after it.
        const full = this.claimedHere() >= MAX_CLAIMED || this.claimedOf(delivery.endpointId) >= CLAIMED_PER_ENDPOINT;
        this.inFlight.delete(delivery.id);
        this.startWaiting(delivery.endpointId);
        if (full) this.wake();
      });
      this.inFlight.set(delivery.id, { token, endpointId, done });
    }
    if (queue && queue.length === 0) this.waiting.delete(endpointId);
  }

  /** Stopping: the claims still waiting go back, due again now for any instance. */
  private async releaseWaiting(): Promise<void> {
    const byToken = new Map<string, string[]>();
    for (const queue of this.waiting.values())
      for (const { delivery, token } of queue) byToken.set(token, [...(byToken.get(token) ?? []), delivery.id]);
    this.waiting.clear();
    const { database, repository, clock } = this.deps;
    for (const [token, ids] of byToken) {
      await database
        .transaction((manager) => repository.release(manager, ids, token, clock.now()))
        .catch((error: unknown) =>
          this.problem(error, 'webhooks: could not give claims back; they lapse by themselves'),
        );
    }
  }

  /** The deliveries claimed here (in flight or waiting), by endpoint. */
  private busy(): Map<string, string[]> {
    const busy = new Map<string, string[]>();
    const add = (endpointId: string, id: string) => busy.set(endpointId, [...(busy.get(endpointId) ?? []), id]);
    for (const [id, { endpointId }] of this.inFlight) add(endpointId, id);
    for (const [endpointId, queue] of this.waiting) for (const { delivery } of queue) add(endpointId, delivery.id);
    return busy;
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
    let count = 0;
    for (const entry of this.inFlight.values()) if (entry.endpointId === endpointId) count += 1;
    return count;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, delayMs);
    // The server keeps the process alive; an idle worker alone does not.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.tickInProgress = true;
    this.wakeRequested = false;
    let claimed = 0;
    try {
      claimed = await this.runOnce();
    } catch (error) {
      this.problem(error, 'webhooks: could not claim deliveries; trying again');
    } finally {
      this.tickInProgress = false;
    }
    // Some room and something claimed, or an attempt of a full round ended meanwhile:
    // go on now. No room: the next round starts when an attempt ends (wake). Else the next poll.
    const full = claimed > 0 && this.claimedHere() >= MAX_CLAIMED;
    const again = (claimed > 0 && !full) || this.wakeRequested;
    this.schedule(again ? 0 : this.deps.pollIntervalMs);
  }

  /** An attempt that held a last free slot ended: the next round now, not at the next poll (one round at a time). */
  private wake(): void {
    if (!this.running || this.stopping) return;
    if (this.tickInProgress) {
      this.wakeRequested = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  private async deliver(delivery: ClaimedDelivery, token: string): Promise<void> {
    try {
      await this.attempt(delivery, token);
    } catch (error) {
      // The claim lapses and the delivery is sent again: at least once.
      this.problem(error, 'webhooks: an attempt failed unexpectedly; it will be made again');
    }
  }

  /** The endpoint's secrets to sign with (the previous one while it overlaps); null when one does not open for it. */
  private signingSecrets(endpoint: NonNullable<ClaimedDelivery['endpoint']>, now: Date): string[] | null {
    const binding = webhookSecretBinding(endpoint.id);
    try {
      const secrets = [this.deps.secrets.open(endpoint.secretCiphertext, binding)];
      if (
        endpoint.previousSecretCiphertext &&
        endpoint.previousSecretExpiresAt &&
        endpoint.previousSecretExpiresAt > now
      )
        secrets.push(this.deps.secrets.open(endpoint.previousSecretCiphertext, binding));
      return secrets;
    } catch (error) {
      if (error instanceof CiphertextRefused) return null;
      throw error;
    }
  }

  private async attempt(delivery: ClaimedDelivery, token: string): Promise<void> {
    const { database, repository, clock } = this.deps;
    const endpoint = delivery.endpoint;
    let result: AttemptResult;
    const secrets = endpoint?.enabled ? this.signingSecrets(endpoint, clock.now()) : null;
    if (!endpoint || !endpoint.enabled) {
      result = { status: null, error: 'endpoint disabled' };
    } else if (!secrets) {
      // Nothing is signed with a secret that does not open for its endpoint: a failed attempt, retried (audited elsewhere).
      result = { status: null, error: 'the signing secret cannot be decrypted' };
    } else {
      const timestamp = (this.deps.wallClock ?? systemClock).now();
      const headers = {
        'webhook-id': delivery.webhookId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': sign(secrets, delivery.webhookId, timestamp, delivery.payload),
      };
      result = await this.deps.sender.send(endpoint.url, headers, delivery.payload, this.abort.signal);
      if (this.abort.signal.aborted && result.status === null) {
        // Stopped mid-attempt: not an attempt; another instance (or this one, restarted) sends it.
        await database
          .transaction((manager) => repository.release(manager, [delivery.id], token, clock.now()))
          .catch((error: unknown) => this.problem(error, 'webhooks: could not give a claim back; it lapses by itself'));
        return;
      }
    }
    try {
      const outcome = await this.record(delivery, token, result, endpoint?.id ?? null, !endpoint?.enabled);
      if (outcome) this.deps.onOutcome?.(outcome);
    } catch (error) {
      // The claim lapses and the delivery is sent again: at least once.
      this.problem(error, 'webhooks: could not record an attempt; it will be sent again');
    }
  }

  private record(
    delivery: ClaimedDelivery,
    token: string,
    result: AttemptResult,
    endpointId: string | null,
    endpointDisabled: boolean,
  ): Promise<DeliveryOutcome | null> {
    const { database, repository, clock } = this.deps;
    return database.transaction(async (manager) => {
      const now = clock.now();
      if (result.error === null) {
        return (await repository.delivered(manager, delivery.id, token, result.status!, now)) ? 'delivered' : null;
      }
      if (endpointDisabled) {
        return (await repository.failed(manager, delivery.id, token, null, 'endpoint disabled')) ? 'failed' : null;
      }
      if (result.status === 410 && endpointId) {
        // Gone: the receiver asks for no more. The endpoint is disabled, and everything queued for it fails.
        await repository.failed(manager, delivery.id, token, 410, 'HTTP 410: the endpoint was disabled');
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
        this.deps.logger.warn({ endpointId }, 'webhooks: an endpoint answered 410 Gone; it is disabled');
        return 'disabled';
      }
      const next = nextAttemptAt(delivery.attempts, delivery.seriesStartedAt, now, this.deps.random);
      if (next === null) {
        return (await repository.failed(manager, delivery.id, token, result.status, `${result.error}; gave up`))
          ? 'failed'
          : null;
      }
      return (await repository.retryAt(manager, delivery.id, token, result.status, result.error, next))
        ? 'retried'
        : null;
    });
  }

  /** Logged at most once a minute: a database that is down for an hour writes 60 lines, not 3600. */
  private problem(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastProblemLoggedAt < 60_000) return;
    this.lastProblemLoggedAt = now;
    this.deps.logger.warn({ err: error }, message);
  }
}
