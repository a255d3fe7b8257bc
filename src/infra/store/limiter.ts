import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { serviceUnavailable } from '../../errors';
import type { Limiter, LimiterResult } from './store';

/**
 * rate-limiter-flexible behind our small Limiter interface. A store that cannot
 * answer is SERVICE_UNAVAILABLE: limits fail closed.
 */
export class FlexibleLimiter implements Limiter {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly points: number,
  ) {}

  async consume(key: string, points = 1): Promise<LimiterResult> {
    try {
      return this.result(await this.limiter.consume(key, points));
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) return this.result(outcome);
      throw serviceUnavailable('rate-limit store');
    }
  }

  async peek(key: string): Promise<LimiterResult> {
    const state = await this.guard(() => this.limiter.get(key));
    if (!state) return { allowed: true, consumed: 0, retryAfterSeconds: 0 };
    return this.result(state);
  }

  async refund(key: string, points = 1): Promise<void> {
    await this.guard(() => this.limiter.reward(key, points));
  }

  async reset(key: string): Promise<void> {
    await this.guard(() => this.limiter.delete(key));
  }

  private result(state: RateLimiterRes): LimiterResult {
    return {
      allowed: state.consumedPoints <= this.points,
      consumed: state.consumedPoints,
      retryAfterSeconds: Math.max(1, Math.ceil(state.msBeforeNext / 1000)),
    };
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch {
      throw serviceUnavailable('rate-limit store');
    }
  }
}
