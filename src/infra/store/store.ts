/**
 * The short-lived state shared by every instance: attempt counters, pending
 * challenges and SMS codes. Redis (or a Redis Cluster) in production; an
 * in-process map in the embedded default. Every operation is atomic on its own,
 * which is all the rules above it build on.
 *
 * Keys that an operation touches together share a `{hash tag}`, so they live in
 * one Cluster slot.
 */
export interface Store {
  get(key: string): Promise<string | null>;
  /** Sets the value with a time to live. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Deletes the key; true only for the one caller that removed it. */
  delete(key: string): Promise<boolean>;
  /** Adds one and returns the new count; the first increment starts the time to live. */
  increment(key: string, ttlMs: number): Promise<number>;
  /** Milliseconds the key still lives; 0 when it does not exist. */
  ttlMs(key: string): Promise<number>;
  /** Takes one back from a counter (an attempt that turned out not to count); nothing when it is gone. */
  decrement(key: string): Promise<void>;
  /**
   * One answer's admission, atomically and in one round trip (a Redis script):
   * the attempt counted in the client IP's window; then, unless that window was
   * already full, the login challenge read and, if it exists, its try counted.
   */
  admitAnswer(request: AdmissionRequest): Promise<AdmissionResult>;
  /** A fixed-window counter family, for the attempt and sending limits. */
  limiter(options: LimiterOptions): Limiter;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface LimiterOptions {
  /** Names the counter family; part of every key. */
  name: string;
  points: number;
  durationSeconds: number;
}

export interface LimiterResult {
  allowed: boolean;
  consumed: number;
  retryAfterSeconds: number;
}

export interface Limiter {
  /** Counts `points` and says whether the count is still within the limit. */
  consume(key: string, points?: number): Promise<LimiterResult>;
  /** What has been counted, without counting. */
  peek(key: string): Promise<LimiterResult>;
  /** Takes back points counted for something that turned out not to count. */
  refund(key: string, points?: number): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface AdmissionRequest {
  /** A fixed window of attempts per client IP, opened by its first attempt. */
  ip?: { key: string; limit: number; windowMs: number };
  /** A login challenge (its record) and the counter of its tries, which lives `triesTtlMs` from its first. */
  challenge?: { key: string; triesKey: string; maxTries: number; triesTtlMs: number };
}

export interface AdmissionResult {
  /** Set when the IP's window was full (its attempt counted, nothing else): milliseconds until it ends. */
  ipRetryAfterMs: number | null;
  /** The challenge's stored value; null when it does not exist (or was not asked for). */
  challengeValue: string | null;
  /** The challenge had had all its tries (this one is counted past them). */
  challengeExhausted: boolean;
}

/** The admission rule, for stores that run it in-process (MemoryStore) and as the Redis script's reference. */
export function admit(
  request: AdmissionRequest,
  ops: {
    get(key: string): string | null;
    increment(key: string, ttlMs: number): number;
    ttlMs(key: string): number;
  },
): AdmissionResult {
  const challengeValue = request.challenge ? ops.get(request.challenge.key) : null;
  if (request.ip && ops.increment(request.ip.key, request.ip.windowMs) > request.ip.limit) {
    return { ipRetryAfterMs: ops.ttlMs(request.ip.key), challengeValue, challengeExhausted: false };
  }
  let challengeExhausted = false;
  if (request.challenge && challengeValue !== null) {
    const { triesKey, triesTtlMs, maxTries } = request.challenge;
    challengeExhausted = ops.increment(triesKey, triesTtlMs) > maxTries;
  }
  return { ipRetryAfterMs: null, challengeValue, challengeExhausted };
}
