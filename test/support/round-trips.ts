import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Database } from '../../src/infra/db/database';
import { REDIS_URL } from './services';

interface RawConnection {
  query: (...args: unknown[]) => unknown;
  execute: (...args: unknown[]) => unknown;
  __watched?: boolean;
}

/**
 * Counts the round trips a piece of work makes to MariaDB (each `query` or
 * `execute` a pooled connection sends, a multi-statement batch being one) and
 * the commands it sends to Redis under a key prefix (from MONITOR, so a script
 * is one command, as it is one round trip).
 */
export async function watchRoundTrips(database: Database, storeKeyPrefix: string) {
  const sql: string[] = [];
  for (const source of database.sources) watchPool(source, sql);
  const client = new Redis(REDIS_URL);
  const monitor = await client.monitor();
  const redis: string[] = [];
  const markers = new Map<string, () => void>();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    markers.get(args[1])?.();
    // What a script runs is part of its one command (MONITOR shows it from "lua").
    if (source !== 'lua' && args.some((arg) => arg.startsWith(storeKeyPrefix))) redis.push(args[0].toLowerCase());
  });
  /** Waits until MONITOR has passed everything sent before now: a marker it must echo after it. */
  const settle = async () => {
    const marker = `round-trips-marker-${Math.random()}`;
    const seen = new Promise<void>((resolve) => markers.set(marker, resolve));
    const probe = new Redis(REDIS_URL);
    await probe.echo(marker);
    await seen;
    markers.delete(marker);
    probe.disconnect();
  };
  return {
    /** Runs `work`; what it sent meanwhile. */
    async during<T>(work: () => Promise<T>): Promise<{ result: T; sql: string[]; redis: string[] }> {
      await settle();
      sql.length = 0;
      redis.length = 0;
      const result = await work();
      await settle();
      return { result, sql: [...sql], redis: [...redis] };
    },
    stop() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

/** Records every statement text (a batch is one entry) that the pooled connections of `source` send. */
export function watchPool(source: DataSource, sql: string[]): void {
  const pool = (source.driver as unknown as { pool: { getConnection: (cb: (...a: unknown[]) => void) => void } }).pool;
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (callback) =>
    getConnection((error: unknown, connection: RawConnection) => {
      if (connection && !connection.__watched) {
        connection.__watched = true;
        for (const method of ['query', 'execute'] as const) {
          const original = connection[method].bind(connection);
          connection[method] = (...args: unknown[]) => {
            const first = args[0] as string | { sql: string };
            sql.push(typeof first === 'string' ? first : first.sql);
            return original(...args);
          };
        }
      }
      callback(error, connection);
    });
}
