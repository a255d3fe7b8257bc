import { In, type EntityManager } from 'typeorm';
import type { Database, Statement } from '../infra/db/database';
import { sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import type { StatusPart } from './status-part';
import { UserRecord } from './user.entity';

/**
 * The user's row as the answer path holds it, locked: what decides an answer
 * besides the factor's own rows (UserRepository.lockedUser).
 */
export interface LockedUser {
  id: string;
  twoFactorEnabled: boolean;
  failedAttemptsInRow: number;
  /** The last TOTP time step accepted: no code of this step or earlier works again. */
  lastTotpStep: number | null;
  failuresInWindow: number;
  failureWindowStartedAt: Date | null;
}

const users = new Table(UserRecord);
/** What the answer path reads of the user's row, under its lock. */
const LOCKED_USER = [
  'id',
  'twoFactorEnabled',
  'failedAttemptsInRow',
  'lastTotpStep',
  'failuresInWindow',
  'failureWindowStartedAt',
] as const satisfies readonly (keyof LockedUser & keyof UserRecord)[];

/** The status read's SELECT and joins, made once for the factors' parts (the same list on every read). */
const statusSelects = new WeakMap<readonly StatusPart[], string>();
function statusSelect(parts: readonly StatusPart[]): string {
  let sql = statusSelects.get(parts);
  if (sql === undefined) {
    const joins = parts.flatMap((part) => (part.join ? [part.join] : []));
    sql = `SELECT u.id, u.two_factor_enabled, u.enabled_at, u.failed_attempts_in_row${parts.map((part) => `, ${part.select}`).join('')}
         FROM users u${joins.map((join) => `\n         ${join}`).join('')}`;
    statusSelects.set(parts, sql);
  }
  return sql;
}

/** Users' two-factor rows. */
export class UserRepository {
  constructor(private readonly database: Database) {}

  findMany(manager: EntityManager, ids: string[]): Promise<UserRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return manager.findBy(UserRecord, { id: In(ids) });
  }

  /**
   * Everything a status shows, for many users, in one query (users without a
   * row are absent): the user's row, and each factor's part (its own columns).
   */
  statusRead(ids: string[], parts: readonly StatusPart[]): Statement {
    return { sql: `${statusSelect(parts)} WHERE u.id IN (${ids.map(() => '?').join(', ')})`, parameters: ids };
  }

  find(manager: EntityManager, id: string): Promise<UserRecord | null> {
    return manager.findOneBy(UserRecord, { id });
  }

  /**
   * Inserts the user's row unless it exists, holding an exclusive lock on it
   * either way: on a row another transaction just inserted, INSERT IGNORE waits
   * for a shared lock, and two such waiters upgrading to exclusive deadlock;
   * ON DUPLICATE KEY UPDATE waits for the exclusive lock itself, so they queue.
   */
  private async insertLocked(manager: EntityManager, id: string, now: Date): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(UserRecord)
      .values({ id, twoFactorEnabled: false, failedAttemptsInRow: 0, createdAt: now })
      .orUpdate(['id'], ['id'])
      .execute();
  }

  /** The user's row, locked for the rest of the transaction (created first if missing). */
  async lock(manager: EntityManager, id: string, now: Date): Promise<UserRecord> {
    // Plain SQL (ADR 0005): every answer checked takes this lock.
    const query = async () => {
      const rows: Record<string, unknown>[] = await manager.query(
        `SELECT ${users.columns(...users.properties)} FROM ${users.name} WHERE id = ?${this.database.forUpdate}`,
        [id],
      );
      return rows.length === 0 ? null : Object.assign(new UserRecord(), users.row(rows[0], ...users.properties));
    };
    // An existing row (nearly always): one locking read.
    const existing = await query();
    if (existing) return existing;
    // Missing (a new user's first change; parallel requests race here): created already locked.
    await this.insertLocked(manager, id, now);
    return (await query())!;
  }

  /** The answer path's locking read of the user's row (ADR 0013): sent with the factors' reads in one round trip. */
  lockedUserRead(id: string, { lock = true }: { lock?: boolean } = {}): Statement {
    return {
      sql: `SELECT ${users.columns(...LOCKED_USER)} FROM ${users.name} WHERE id = ?${lock ? this.database.forUpdate : ''}`,
      parameters: [id],
    };
  }

  /** The same, without a lock: how an answer refused before the transaction learns what comes first (the lock). */
  async answerState(manager: EntityManager, id: string): Promise<LockedUser | null> {
    const read = this.lockedUserRead(id, { lock: false });
    return this.lockedUserOf(await manager.query(read.sql, read.parameters));
  }

  /** The row `lockedUserRead` found; null when the user has none. */
  lockedUserOf(rows: Record<string, unknown>[]): LockedUser | null {
    return rows.length === 0 ? null : users.row(rows[0], ...LOCKED_USER);
  }

  /** Under the row lock: the user's answers are right again (queued with the COMMIT). */
  async endFailuresInRow(manager: EntityManager, id: string): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${users.name} SET ${users.assignments('failedAttemptsInRow')} WHERE id = ?`,
      parameters: [0, id],
    });
  }

  /** Under the row lock: one more failure in a row, and the failure window as the caller counted it (queued). */
  async recordFailure(
    manager: EntityManager,
    id: string,
    window: { failuresInWindow: number; failureWindowStartedAt: Date },
  ): Promise<void> {
    const inRow = users.column('failedAttemptsInRow');
    await this.database.queue(manager, {
      sql: `UPDATE ${users.name} SET ${inRow} = ${inRow} + 1, ${users.assignments('failuresInWindow', 'failureWindowStartedAt')} WHERE id = ?`,
      parameters: [window.failuresInWindow, sqlTime(window.failureWindowStartedAt), id],
    });
  }

  /** Under the row lock, with the step already checked later than the last one (LockedUser.lastTotpStep): queued. */
  async recordTotpStep(manager: EntityManager, id: string, step: number): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${users.name} SET ${users.assignments('lastTotpStep')} WHERE id = ?`,
      parameters: [step, id],
    });
  }

  async update(manager: EntityManager, id: string, changes: Partial<UserRecord>): Promise<void> {
    await manager.update(UserRecord, { id }, changes);
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.delete(UserRecord, { id });
  }
}
