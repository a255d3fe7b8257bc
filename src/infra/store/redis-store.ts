import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { serviceUnavailable } from '../../errors';
import { FlexibleLimiter } from './limiter';
import type { AdmissionRequest, AdmissionResult, Limiter, LimiterOptions, Store } from './store';

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

// The admission rule of store.ts's admit(), in one round trip. KEYS: the IP's
// counter, the challenge, its tries; ARGV: the IP's limit and window, the
// challenge's tries and their time to live (a part absent: its ARGV empty).
// Returns { challenge value or false, ms until the IP's window ends or -1, 1 when exhausted }.
const ADMIT_ANSWER = `
local value = false
if ARGV[3] ~= '' then value = redis.call('GET', KEYS[2]) end
if ARGV[1] ~= '' then
  local count = redis.call('INCR', KEYS[1])
  if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  if count > tonumber(ARGV[1]) then return { value, redis.call('PTTL', KEYS[1]), 0 } end
end
local exhausted = 0
if ARGV[3] ~= '' and value then
  local tries = redis.call('INCR', KEYS[3])
  if tries == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
  if tries > tonumber(ARGV[3]) then exhausted = 1 end
end
return { value, -1, exhausted }`;

const DECREMENT_IF_PRESENT = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
return 0`;

type ScriptReply = [string | null, number, number];

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
    client.defineCommand('admitAnswer', { numberOfKeys: 3, lua: ADMIT_ANSWER });
    client.defineCommand('decrementIfPresent', { numberOfKeys: 1, lua: DECREMENT_IF_PRESENT });
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

  async decrement(key: string): Promise<void> {
    await this.guard(() => this.script('decrementIfPresent', [this.prefix + key]));
  }

  /**
   * One script on a single Redis. A Cluster keeps the IP's counter and the
   * challenge in different slots, and a script touches one slot: there it is
   * two scripts, the challenge's only once the IP's window admitted the attempt.
   */
  async admitAnswer({ ip, challenge }: AdmissionRequest): Promise<AdmissionResult> {
    const ipKey = ip && this.prefix + ip.key;
    const challengeKeys = challenge && [this.prefix + challenge.key, this.prefix + challenge.triesKey];
    // A part that is absent names a key of the other part (never touched), so every key shares one slot.
    const run = async (withIp: boolean, withChallenge: boolean) => {
      const [first, second] = withChallenge ? challengeKeys! : [ipKey!, ipKey!];
      const keys = [withIp ? ipKey! : first, first, second];
      const args = [
        withIp ? String(ip!.limit) : '',
        withIp ? String(ip!.windowMs) : '',
        withChallenge ? String(challenge!.maxTries) : '',
        withChallenge ? String(challenge!.triesTtlMs) : '',
      ];
      const [value, ipTtl, exhausted] = (await this.guard(() =>
        this.script('admitAnswer', [...keys, ...args]),
      )) as ScriptReply;
      return {
        challengeValue: value ?? null,
        ipRetryAfterMs: ipTtl >= 0 ? ipTtl : null,
        challengeExhausted: exhausted === 1,
      };
    };
    if (!(this.client instanceof Cluster) || !ip || !challenge) return run(ip !== undefined, challenge !== undefined);
    const byIp = await run(true, false);
    if (byIp.ipRetryAfterMs !== null) return { ...byIp, challengeValue: await this.get(challenge.key) };
    return run(false, true);
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

  private script(name: string, args: string[]): Promise<unknown> {
    return (this.client as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[name](...args);
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch {
      throw serviceUnavailable('challenge and rate-limit store');
    }
  }
}
