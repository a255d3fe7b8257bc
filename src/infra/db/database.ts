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
  /** Pooled MySQL connections whose session already reads committed (set once, not per transaction). */
  private readonly readCommitted = new WeakSet<object>();
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
        const run = () => this.mysqlTransaction(work);
        return await (options.retryDeadlocks === false ? run() : this.retryingDeadlocks(run));
      }
      const run = this.queue.then(() => this.dataSource.transaction(work));
      this.queue = run.catch(() => undefined);
      return await run;
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  /**
   * READ COMMITTED, set on the connection's session the first time it serves a
   * transaction: TypeORM's transaction('READ COMMITTED') sends SET TRANSACTION
   * before every START TRANSACTION, one round trip more on every write.
   */
  private async mysqlTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const connection = (runner as unknown as { databaseConnection: object }).databaseConnection;
      if (!this.readCommitted.has(connection)) {
        await runner.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        this.readCommitted.add(connection);
      }
      await runner.startTransaction();
      try {
        const result = await work(runner.manager);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release();
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

  /**
   * A plain-SQL write inside a transaction (ADR 0005): the rows it changed, as
   * both drivers count them (on MySQL, the rows its WHERE matched).
   */
  async write(manager: EntityManager, sql: string, parameters: unknown[]): Promise<number> {
    if (!manager.queryRunner) throw new Error('Database.write runs inside a transaction');
    const result = (await manager.queryRunner.query(sql, parameters, true)) as { affected?: number };
    return result.affected ?? 0;
  }

  /** A plain-SQL INSERT inside a transaction: the id the database generated for the row. */
  async insert(manager: EntityManager, sql: string, parameters: unknown[]): Promise<string> {
    if (!manager.queryRunner) throw new Error('Database.insert runs inside a transaction');
    const result = (await manager.queryRunner.query(sql, parameters, true)) as { raw: { insertId?: number | string } };
    if (this.isMysql) return String(result.raw.insertId);
    const [row] = (await manager.queryRunner.query('SELECT last_insert_rowid() AS id')) as { id: number }[];
    return String(row.id);
  }

  /** ` FOR UPDATE` for a plain-SQL read on MySQL; nothing where transactions are serialized. */
  get forUpdate(): string {
    return this.isMysql ? ' FOR UPDATE' : '';
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
