import { Entity } from 'typeorm';
import { CiphertextColumn, PrimaryIdColumn, TimestampColumn } from '../../infra/db/columns';

/** A confirmed TOTP authenticator. The secret is encrypted and never exposed. */
@Entity('totp_factors')
export class TotpFactorRecord {
  @PrimaryIdColumn({ name: 'user_id' })
  userId: string;

  @CiphertextColumn({ name: 'secret_ciphertext' })
  secretCiphertext: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}
