import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { serviceUnavailable } from '../../errors';
import { FlexibleLimiter } from './limiter';
import type { Limiter, LimiterOptions, Store } from './store';

export type RedisTarget =
  { kind: 'redis'; url: string } | { kind: 'redis-cluster'; nodes: { host: string; port: number }[] };

// Commands fail at once while the connection is down (no offline queue, no long
// retries), so requests fail closed quickly; the client keeps reconnecting and
// recovers by itself.
const clientOptions: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
};

const INCREMENT_WITH_TTL = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

export class RedisStore implements Store {
  private constructor(
    private readonly client: Redis | Cluster,
    private readonly prefix: string,
  ) {}

  /** Connects and waits until Redis answers (or throws after `timeoutMs`). */
  static async connect(target: RedisTarget, prefix = 'tf:', timeoutMs = 10_000): Promise<RedisStore> {
    const client =
      target.kind === 'redis'
        ? new Redis(target.url, clientOptions)
        : new Cluster(target.nodes, {
            enableOfflineQueue: false,
            redisOptions: clientOptions,
            clusterRetryStrategy: clientOptions.retryStrategy,
          });
    client.on('error', () => {
      // Reported through /readyz and SERVICE_UNAVAILABLE; without a listener ioredis logs to stderr.
    });
    client.defineCommand('incrementWithTtl', { numberOfKeys: 1, lua: INCREMENT_WITH_TTL });
    const store = new RedisStore(client, prefix);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    }).catch(async (error) => {
      client.disconnect();
      throw error;
    });
    return store;
  }

  async get(key: string): Promise<string | null> {
    return this.guard(() => this.client.get(this.prefix + key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.guard(() => this.client.set(this.prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  async delete(key: string): Promise<boolean> {
    return (await this.guard(() => this.client.del(this.prefix + key))) === 1;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const command = (this.client as unknown as { incrementWithTtl(key: string, ttl: number): Promise<number> })
      .incrementWithTtl;
    return Number(await this.guard(() => command.call(this.client, this.prefix + key, Math.ceil(ttlMs))));
  }

  async ttlMs(key: string): Promise<number> {
    return Math.max(0, await this.guard(() => this.client.pttl(this.prefix + key)));
  }

  limiter(options: LimiterOptions): Limiter {
    return new FlexibleLimiter(
      new RateLimiterRedis({
        storeClient: this.client,
        keyPrefix: `${this.prefix}limit:${options.name}`,
        points: options.points,
        duration: options.durationSeconds,
        rejectIfRedisNotReady: true,
      }),
      options.points,
    );
  }

  async ping(): Promise<void> {
    await this.guard(() => this.client.ping());
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch {
      throw serviceUnavailable('challenge and rate-limit store');
    }
  }
}
