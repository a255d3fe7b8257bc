import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { HashColumn, IdColumn, TimestampColumn } from '../infra/db/columns';

/**
 * A browser or device the user asked to remember at login. The token itself is
 * never stored: only its keyed hash (HMAC-SHA256 under a subkey of the
 * current encryption key), unique, so a login finds the row by the token in one index
 * lookup. The expiry is fixed at creation (no sliding). Revoking deletes the row.
 */
@Entity('trusted_devices')
@Index('idx_trusted_devices_token_hash', ['tokenHash'], { unique: true })
@Index('idx_trusted_devices_user', ['userId', 'createdAt'])
@Index('idx_trusted_devices_expires', ['expiresAt'])
export class TrustedDeviceRecord {
  /** Random (144 bits, base64url): says nothing about how many devices exist. */
  @PrimaryColumn({ type: 'varchar', length: 32, charset: 'ascii', collation: 'ascii_bin' })
  id: string;

  @IdColumn({ name: 'user_id' })
  userId: string;

  @HashColumn({ name: 'token_hash' })
  tokenHash: string;

  /** Plain text, never interpreted as markup. */
  @Column({ type: 'varchar', length: 64, charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  name: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  /**
   * The strength of the sign-in that remembered it (login/amr.ts: `mfa`, `phr`),
   * named as the assertion's `acr`: a device start is never stronger than that
   * sign-in. Rows from before it was kept are `mfa`: they prove no key.
   */
  @Column({
    name: 'sign_in_strength',
    type: 'varchar',
    length: 8,
    charset: 'ascii',
    collation: 'ascii_bin',
    default: 'mfa',
  })
  signInStrength: string;
}
