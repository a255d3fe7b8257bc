import type { EntityManager } from 'typeorm';
import type { Clock } from '../infra/clock';
import type { Database, Statement } from '../infra/db/database';
import { sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import { SpentLoginChallengeRecord } from './spent-login-challenge.entity';

const spent = new Table(SpentLoginChallengeRecord);

/**
 * Login challenges a right answer spent (ADR 0013): the spend is durable and
 * decided under the user's row lock, in the answer's own transaction, so it
 * needs no second trip to the store; rows go once their challenge would have expired.
 */
export class SpentLoginChallenges {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  /** The read the answer path sends with the user's row lock: a row when the challenge is spent. */
  read(challengeHash: string): Statement {
    return {
      sql: `SELECT ${spent.columns('challengeHash')} FROM ${spent.name} WHERE ${spent.column('challengeHash')} = ?`,
      parameters: [challengeHash],
    };
  }

  /** Spends it in the success's transaction (queued with the COMMIT; a second spend fails on the key). */
  async spendIn(manager: EntityManager, challengeHash: string, userId: string, expiresAt: Date): Promise<void> {
    await this.database.queue(manager, {
      sql: `INSERT INTO ${spent.name} (${spent.columns('challengeHash', 'userId', 'expiresAt')}) VALUES (?, ?, ?)`,
      parameters: [challengeHash, userId, sqlTime(expiresAt)],
    });
  }

  /** Outside the answer path (e.g. before sending a login SMS): whether it is spent. */
  async isSpent(challengeHash: string): Promise<boolean> {
    const statement = this.read(challengeHash);
    const rows: unknown[] = await this.database.run((manager) => manager.query(statement.sql, statement.parameters));
    return rows.length > 0;
  }

  /** Background work: rows of challenges that expired, a batch at a time. */
  async purgeExpired(batch: number): Promise<number> {
    const expiresAt = spent.column('expiresAt');
    return this.database.transaction((manager) =>
      this.database.write(
        manager,
        `DELETE FROM ${spent.name} WHERE ${expiresAt} <= ?${this.database.isMysql ? ` ORDER BY ${expiresAt} LIMIT ${Number(batch)}` : ''}`,
        [sqlTime(this.clock.now())],
      ),
    );
  }
}
