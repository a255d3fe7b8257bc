import type { QueryRunner } from 'typeorm';

/** One SQL statement with its `?` parameters. */
export interface Statement {
  sql: string;
  parameters: unknown[];
}

/** The callback API of a pooled mysql2 connection, as TypeORM's MySQL query runner holds it. */
interface RawConnection {
  query(sql: string, values: unknown[], callback: (error: Error | null, results: unknown) => void): void;
}

/** What TypeORM's MySQL query runner keeps about its transaction (public fields, set as startTransaction would). */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
  databaseConnection: RawConnection;
  query(sql: string, parameters?: unknown[], useStructuredResult?: boolean): Promise<unknown>;
}

/**
 * A MySQL transaction planned, then sent (ADR 0013): nothing is sent when it
 * starts; statements whose results nobody needs (writes) wait in a queue, and
 * go out with the next read or with the COMMIT, in one round trip
 * (mysql2 `multipleStatements`, on a pool used only for transactions). So a
 * transaction that reads what decides under a lock and then writes costs two
 * round trips: `START TRANSACTION; SELECT … FOR UPDATE; …` and `UPDATE …;
 * INSERT …; COMMIT`.
 *
 * Statements run in the order they were given, exactly as if sent one by one:
 * MySQL stops a batch at its first failing statement (its COMMIT is then never
 * reached) and the caller rolls back. TypeORM's own operations inside the
 * transaction still work: the query runner sends what is queued, with their
 * statement, first.
 */
export class BatchedTransaction {
  private queued: Statement[] = [];
  /** Whether START TRANSACTION has reached the server (so there is something to roll back). */
  private started = false;
  private readonly runner: TransactionState;
  private readonly originalQuery: TransactionState['query'];

  constructor(
    runner: QueryRunner,
    /** Statements the server should run before this transaction's first (e.g. a session setting, once per connection). */
    prelude: Statement[],
    /** Whether the connection accepts several statements in one query; without, queued statements go one by one. */
    private readonly multipleStatements: boolean,
  ) {
    this.runner = runner as unknown as TransactionState;
    this.originalQuery = this.runner.query.bind(runner);
    this.queued = [...prelude, { sql: 'START TRANSACTION', parameters: [] }];
    // As TypeORM's startTransaction leaves it, so its operations join this transaction.
    this.runner.isTransactionActive = true;
    this.runner.transactionDepth = 1;
    this.runner.query = (sql, parameters, structured) => this.typeormQuery(sql, parameters ?? [], structured);
  }

  /** Adds a statement whose result is not needed; it is sent with the next read or the COMMIT. */
  queue(statement: Statement): void {
    this.queued.push(statement);
  }

  /** Sends what is queued and these reads in one round trip; the reads' rows, in order. */
  async read(statements: Statement[]): Promise<Record<string, unknown>[][]> {
    const results = await this.send([...this.takeQueued(), ...statements]);
    return results.slice(results.length - statements.length) as Record<string, unknown>[][];
  }

  /** Sends what is queued and COMMIT together; a transaction that never sent anything sends nothing. */
  async commit(): Promise<void> {
    const queued = this.takeQueued();
    const writes = queued.filter((statement) => !isPrelude(statement));
    if (this.started || writes.length > 0) await this.send([...queued, { sql: 'COMMIT', parameters: [] }]);
    this.end();
  }

  /** Drops what is queued; ROLLBACK only when the server has seen the transaction start. */
  async rollback(): Promise<void> {
    this.queued = [];
    try {
      if (this.started) await this.send([{ sql: 'ROLLBACK', parameters: [] }]);
    } finally {
      this.end();
    }
  }

  /** Whether anything (so the prelude too) reached the server. */
  get reachedServer(): boolean {
    return this.started;
  }

  private takeQueued(): Statement[] {
    const queued = this.queued;
    this.queued = [];
    return queued;
  }

  private end(): void {
    this.runner.isTransactionActive = false;
    this.runner.transactionDepth = 0;
    this.runner.query = this.originalQuery;
  }

  /** TypeORM's own statements: what is queued goes first, in the same round trip where the connection allows. */
  private async typeormQuery(sql: string, parameters: unknown[], structured?: boolean): Promise<unknown> {
    if (this.queued.length === 0) return this.originalQuery(sql, parameters, structured);
    const results = await this.send([...this.takeQueued(), { sql, parameters }]);
    const raw = results[results.length - 1] as { affectedRows?: number } | unknown[];
    if (!structured) return raw;
    // The shape TypeORM's MysqlQueryRunner.query gives with useStructuredResult.
    return {
      raw,
      records: Array.isArray(raw) ? raw : [],
      affected: !Array.isArray(raw) && raw && 'affectedRows' in raw ? raw.affectedRows : undefined,
    };
  }

  /** One round trip (or one per statement without multipleStatements): each statement's result, in order. */
  private async send(statements: Statement[]): Promise<unknown[]> {
    if (statements.length === 0) return [];
    this.started = true;
    if (!this.multipleStatements) {
      const results: unknown[] = [];
      for (const statement of statements) results.push(await this.raw(statement.sql, statement.parameters));
      return results;
    }
    const sql = statements.map((statement) => statement.sql).join(';\n');
    const parameters = statements.flatMap((statement) => statement.parameters);
    const results = await this.raw(sql, parameters);
    return statements.length === 1 ? [results] : (results as unknown[]);
  }

  private raw(sql: string, parameters: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.runner.databaseConnection.query(sql, parameters, (error, results) =>
        error ? reject(error) : resolve(results),
      );
    });
  }
}

const isPrelude = (statement: Statement) => statement.sql === 'START TRANSACTION' || statement.sql.startsWith('SET ');
