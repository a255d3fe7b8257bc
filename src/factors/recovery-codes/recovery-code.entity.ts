import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { SecretBinding } from '../../infra/crypto/cipher';
import { CiphertextColumn, HashColumn, IdColumn, TimestampColumn } from '../../infra/db/columns';

/** One recovery code: encrypted (so it can be viewed again) and found by keyed hash. */
@Entity('recovery_codes')
@Index('uq_recovery_codes_user_hash', ['userId', 'codeHash'], { unique: true })
export class RecoveryCodeRecord {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @IdColumn({ name: 'user_id' })
  userId: string;

  @HashColumn({ name: 'code_hash' })
  codeHash: string;

  /** Sealed to the user and position (recoveryCodeBinding); indexed so the key ids in use are read cheaply (ADR 0022). */
  @Index('idx_recovery_codes_code_ciphertext')
  @CiphertextColumn({ name: 'code_ciphertext' })
  codeCiphertext: string;

  /** Keeps the order in which the codes were shown. */
  @Column({ type: 'smallint' })
  position: number;

  @TimestampColumn({ name: 'used_at', nullable: true })
  usedAt: Date | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

/** A code is its user's, at its place in the set: copied to another row it does not decrypt. */
export const recoveryCodeBinding = (userId: string, position: number): SecretBinding => ({
  purpose: 'recovery-code',
  row: `${position}:${userId}`,
  userId,
});
