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
