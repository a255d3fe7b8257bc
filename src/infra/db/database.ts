import type { DataSource, EntityManager, SelectQueryBuilder, ObjectLiteral } from 'typeorm';
import { AppError } from '../../errors';

/**
 * The database as the services see it: transactions and a readiness probe.
 *
 * On MySQL, transactions run concurrently and take row locks where a rule needs
 * them (`lockForUpdate`). The embedded SQLite file serves one process, so there
 * every transaction runs one after another, which gives the same guarantees.
 */
export class Database {
  private queue: Promise<unknown> = Promise.resolve();
  readonly isMysql: boolean;

  constructor(readonly dataSource: DataSource) {
    this.isMysql = dataSource.options.type === 'mysql' || dataSource.options.type === 'mariadb';
  }

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /**
   * `retryDeadlocks: false` for work that also changes the store (an SMS code
   * consumed, a challenge spent): running it again would not find those again.
   */
  async transaction<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: { retryDeadlocks?: boolean } = {},
  ): Promise<T> {
    try {
      if (this.isMysql) {
        const run = () => this.dataSource.transaction('READ COMMITTED', work);
        return await (options.retryDeadlocks === false ? run() : this.retryingDeadlocks(run));
      }
      const run = this.queue.then(() => this.dataSource.transaction(work));
      this.queue = run.catch(() => undefined);
      return await run;
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  /** InnoDB may pick a transaction as a deadlock victim; it rolled back whole, so run it again. */
  private async retryingDeadlocks<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await run();
      } catch (error) {
        const code =
          (error as { driverError?: { code?: string }; code?: string }).driverError?.code ??
          (error as { code?: string }).code;
        if (code !== 'ER_LOCK_DEADLOCK' || attempt >= 3) throw error;
      }
    }
  }

  /** Runs a read (or a single statement) and turns a lost connection into SERVICE_UNAVAILABLE. */
  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      if (this.isMysql) return await work(this.dataSource.manager);
      // One connection in the embedded default: reads wait their turn, so they never see a half-done write.
      const run = this.queue.then(() => work(this.dataSource.manager));
      this.queue = run.catch(() => undefined);
      return await run;
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  /** SELECT ... FOR UPDATE on MySQL; a no-op where transactions are serialized. */
  lockForUpdate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
    return this.isMysql ? query.setLock('pessimistic_write') : query;
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'POOL_CLOSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  // Transient: the transaction rolled back whole; the caller may try again.
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);

export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const code =
    (error as { code?: string; driverError?: { code?: string } })?.code ??
    (error as { driverError?: { code?: string } })?.driverError?.code;
  const message = error instanceof Error ? error.message : '';
  if (
    (code && CONNECTION_ERRORS.has(code)) ||
    /Pool is closed|Connection lost|connect ECONNREFUSED|Queue limit reached/i.test(message)
  ) {
    return new AppError('SERVICE_UNAVAILABLE', 'The database cannot be reached; try again shortly.');
  }
  return error;
}
