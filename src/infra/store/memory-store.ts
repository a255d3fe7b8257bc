import { RateLimiterMemory } from 'rate-limiter-flexible';
import { FlexibleLimiter } from './limiter';
import {
  type AdmissionRequest,
  type AdmissionResult,
  admit,
  type Limiter,
  type LimiterOptions,
  type Store,
} from './store';

/**
 * The embedded default's store: one process, so a Map is as atomic as Redis.
 * Expiry follows the wall clock, like Redis's.
 */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.live(key) !== undefined;
    this.entries.delete(key);
    return existed;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    return this.incrementNow(key, ttlMs);
  }

  async ttlMs(key: string): Promise<number> {
    return this.ttlNow(key);
  }

  async decrement(key: string): Promise<void> {
    const entry = this.live(key);
    if (entry) entry.value = String(Number(entry.value) - 1);
  }

  async admitAnswer(request: AdmissionRequest): Promise<AdmissionResult> {
    return admit(request, {
      get: (key) => this.live(key)?.value ?? null,
      increment: (key, ttlMs) => this.incrementNow(key, ttlMs),
      ttlMs: (key) => this.ttlNow(key),
    });
  }

  limiter(options: LimiterOptions): Limiter {
    return new FlexibleLimiter(
      new RateLimiterMemory({ keyPrefix: options.name, points: options.points, duration: options.durationSeconds }),
      options.points,
    );
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private incrementNow(key: string, ttlMs: number): number {
    const entry = this.live(key);
    const count = entry ? Number(entry.value) + 1 : 1;
    this.entries.set(key, { value: String(count), expiresAt: entry?.expiresAt ?? Date.now() + ttlMs });
    return count;
  }

  private ttlNow(key: string): number {
    const entry = this.live(key);
    return entry ? entry.expiresAt - Date.now() : 0;
  }

  private live(key: string) {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
