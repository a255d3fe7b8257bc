import { Entity, Index } from 'typeorm';
import type { SecretBinding } from '../../infra/crypto/cipher';
import { CiphertextColumn, PrimaryIdColumn, TimestampColumn } from '../../infra/db/columns';

/** A confirmed TOTP authenticator. The secret is encrypted and never exposed. */
@Entity('totp_factors')
export class TotpFactorRecord {
  @PrimaryIdColumn({ name: 'user_id' })
  userId: string;

  /** Sealed to the user (totpSecretBinding); indexed so the key ids in use are read cheaply (ADR 0022). */
  @Index('idx_totp_factors_secret_ciphertext')
  @CiphertextColumn({ name: 'secret_ciphertext' })
  secretCiphertext: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}

/** The secret is the user's: copied to another user's row it does not decrypt. */
export const totpSecretBinding = (userId: string): SecretBinding => ({ purpose: 'totp-secret', row: userId, userId });
