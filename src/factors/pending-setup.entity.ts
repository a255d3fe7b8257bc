import { Column, Entity, Index } from 'typeorm';
import type { SecretBinding } from '../infra/crypto/cipher';
import { CiphertextColumn, HashColumn, PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';
import { LIMITS } from '../limits';
import type { EnrolledMethod } from '../users/two-factor-method';

/**
 * A factor being set up: nothing about the user's two-factor changes until it is
 * confirmed. One per user and method; starting again replaces it.
 */
@Entity('pending_setups')
export class PendingSetupRecord {
  @PrimaryIdColumn({ name: 'user_id' })
  userId: string;

  @Column({ type: 'varchar', length: 8, charset: 'ascii', collation: 'ascii_bin', primary: true })
  method: EnrolledMethod;

  /** The new TOTP secret, or the new phone number: sealed to the user and method (pendingSetupBinding), indexed (ADR 0022). */
  @Index('idx_pending_setups_payload_ciphertext')
  @CiphertextColumn({ name: 'payload_ciphertext' })
  payloadCiphertext: string;

  /** The phone number's keyed hash (SMS only). */
  @HashColumn({ name: 'lookup_hash', nullable: true })
  lookupHash: string | null;

  @Column({
    name: 'display',
    type: 'varchar',
    length: 40,
    charset: 'utf8mb4',
    collation: 'utf8mb4_bin',
    nullable: true,
  })
  display: string | null;

  /** The language (BCP 47) of the SMS to the new number (SMS only). */
  @Column({
    name: 'sms_locale',
    type: 'varchar',
    length: LIMITS.smsLocaleMaxLength,
    charset: 'ascii',
    collation: 'ascii_bin',
    nullable: true,
  })
  smsLocale: string | null;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

/** A pending secret is its user's, for one method: copied to another row it does not decrypt. */
export const pendingSetupBinding = (userId: string, method: string): SecretBinding => ({
  purpose: 'pending-setup',
  row: `${method}:${userId}`,
  userId,
});
