import { Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumn, TimestampColumn } from '../infra/db/columns';

/**
 * A login challenge that a right answer spent, kept until the challenge would
 * have expired: written in the success's own transaction, read under the user's
 * row lock, so of two right answers to one challenge only the first commits
 * (the challenge itself lives in the store; ADR 0013).
 */
@Entity('spent_login_challenges')
@Index('idx_spent_login_challenges_expires', ['expiresAt'])
export class SpentLoginChallengeRecord {
  /** The challenge id's keyed hash (StoreKeyHash), never the id. */
  @PrimaryColumn({ name: 'challenge_hash', type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin' })
  challengeHash: string;

  @IdColumn({ name: 'user_id' })
  userId: string;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;
}
