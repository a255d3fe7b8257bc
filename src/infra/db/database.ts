import {
  EntityManager,
  QueryFailedError,
  type DataSource,
  type ObjectLiteral,
  type QueryRunner,
  type SelectQueryBuilder,
} from 'typeorm';
import { AppError } from '../../errors';
import { BatchedTransaction, type Statement } from './batched-transaction';

export type { Statement } from './batched-transaction';

/**
 * The database as the services see it: transactions and a readiness probe.
 *
 * On MySQL, transactions run concurrently and take row locks where a rule needs
 * them (`lockForUpdate`); each is planned, then sent (BatchedTransaction, ADR
 * 0013). The embedded SQLite file serves one process, so there every
 * transaction runs one after another, which gives the same guarantees.
 */
export class Database {
  /** The embedded SQLite file's one line: each transaction and read waits for the one before. */
  private serial: Promise<unknown> = Promise.resolve();
  /** Pooled MySQL connections whose session already reads committed (set once, not per transaction). */
  private readonly readCommitted = new WeakSet<object>();
  /** The open batched transaction of each query runner. */
  private readonly batches = new WeakMap<QueryRunner, BatchedTransaction>();
  readonly isMysql: boolean;
  /** What `run` hands its work: on MySQL, a manager whose plain queries go straight to the pool. */
  private readonly readManager: EntityManager;
  /** Transactions run here: on MySQL, a pool whose connections accept several statements per query. */
  private readonly transactionSource: DataSource;
  private readonly multipleStatements: boolean;

  constructor(
    readonly dataSource: DataSource,
    transactionSource?: DataSource,
  ) {
    this.isMysql = dataSource.options.type === 'mysql' || dataSource.options.type === 'mariadb';
    this.transactionSource = transactionSource ?? dataSource;
    const extra = (this.transactionSource.options as { extra?: { multipleStatements?: boolean } }).extra;
    this.multipleStatements = extra?.multipleStatements === true;
    this.readManager = this.isMysql ? new PooledReadManager(dataSource) : dataSource.manager;
  }

  /** Every DataSource this database talks through (reads, transactions): for tests that watch round trips. */
  get sources(): DataSource[] {
    return this.transactionSource === this.dataSource ? [this.dataSource] : [this.dataSource, this.transactionSource];
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
      const run = this.serial.then(() => this.dataSource.transaction(work));
      this.serial = run.catch(() => undefined);
      return await run;
    } catch (error) {
      throw translateDatabaseError(error);
    }
  }

  /**
   * READ COMMITTED, set on the connection's session the first time it serves a
   * transaction, in the same round trip as the transaction's first statement.
   */
  private async mysqlTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.transactionSource.createQueryRunner();
    try {
      const connection = (await runner.connect()) as object;
      const prelude = this.readCommitted.has(connection)
        ? []
        : [{ sql: 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', parameters: [] }];
      const transaction = new BatchedTransaction(runner, prelude, this.multipleStatements);
      this.batches.set(runner, transaction);
      try {
        const result = await work(runner.manager);
        await transaction.commit();
        return result;
      } catch (error) {
        await transaction.rollback().catch(() => undefined);
        throw error;
      } finally {
        this.batches.delete(runner);
        if (transaction.reachedServer) this.readCommitted.add(connection);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * A write whose result is not needed, inside a transaction: on MySQL it waits
   * and goes with the transaction's next read or its COMMIT (one round trip);
   * elsewhere it runs now.
   */
  async queue(manager: EntityManager, statement: Statement): Promise<void> {
    const batch = manager.queryRunner && this.batches.get(manager.queryRunner);
    if (batch) return batch.queue(statement);
    await manager.query(statement.sql, statement.parameters);
  }

  /** Reads (with whatever is queued before them) in one round trip on MySQL: each statement's rows, in order. */
  async read(manager: EntityManager, statements: Statement[]): Promise<Record<string, unknown>[][]> {
    const batch = manager.queryRunner && this.batches.get(manager.queryRunner);
    if (batch) return batch.read(statements);
    const results: Record<string, unknown>[][] = [];
    for (const statement of statements) results.push(await manager.query(statement.sql, statement.parameters));
    return results;
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
      if (this.isMysql) return await work(this.readManager);
      // One connection in the embedded default: reads wait their turn, so they never see a half-done write.
      const run = this.serial.then(() => work(this.dataSource.manager));
      this.serial = run.catch(() => undefined);
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

  /** The id the connection's last INSERT generated, as an SQL expression (for a statement queued after it). */
  get lastInsertId(): string {
    return this.isMysql ? 'LAST_INSERT_ID()' : 'last_insert_rowid()';
  }

  /** ` FOR UPDATE` for a plain-SQL read on MySQL; nothing where transactions are serialized. */
  get forUpdate(): string {
    return this.isMysql ? ' FOR UPDATE' : '';
  }

  /** SELECT ... FOR UPDATE on MySQL; a no-op where transactions are serialized. */
  lockForUpdate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
    return this.isMysql ? query.setLock('pessimistic_write') : query;
  }

  /** A read of the latest committed rows under shared locks (LOCK IN SHARE MODE): readers never wait for one another. */
  lockForShare<T extends ObjectLiteral>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T> {
    return this.isMysql ? query.setLock('pessimistic_read') : query;
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

interface MysqlPool {
  query(sql: string, values: unknown[], callback: (error: Error | null, rows: unknown) => void): void;
}

/**
 * The manager of reads outside a transaction on MySQL. Its plain `query` goes
 * straight to mysql2's pool: TypeORM's query runner (one made and released per
 * statement, with its logging and broadcaster) cost a hot read about a quarter
 * of its CPU, measured. Entity methods (find, save...) are TypeORM's own.
 * Rows, errors and logging are what TypeORM's `query` gives: the driver's
 * rows, its errors wrapped in QueryFailedError, each statement to the logger.
 */
class PooledReadManager extends EntityManager {
  override query<T = any>(sql: string, parameters: unknown[] = []): Promise<T> {
    // The driver's pool exists once the data source is initialized (before any request).
    const pool = (this.connection.driver as unknown as { pool: MysqlPool }).pool;
    // Logged where TypeORM logs its own statements (counted by tests, shown when logging is on).
    const logger = this.connection.logger;
    logger.logQuery(sql, parameters);
    return new Promise((resolve, reject) =>
      pool.query(sql, parameters, (error, rows) => {
        if (!error) return resolve(rows as T);
        logger.logQueryError(error, sql, parameters);
        reject(new QueryFailedError(sql, parameters, error));
      }),
    );
  }
}
