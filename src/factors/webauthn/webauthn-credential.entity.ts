import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumn, TimestampColumn } from '../../infra/db/columns';

export const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

/**
 * A confirmed security key or passkey. The credential id (base64url) is unique
 * across all users; the public key is public (COSE, base64url). The counter
 * grows with each use on authenticators that count.
 */
@Entity('webauthn_credentials')
@Index('idx_webauthn_credentials_user', ['userId', 'createdAt'])
export class WebAuthnCredentialRecord {
  @PrimaryColumn({ type: 'varchar', length: 1364, charset: 'ascii', collation: 'ascii_bin' })
  id: string;

  @IdColumn({ name: 'user_id' })
  userId: string;

  @Column({ name: 'public_key', type: 'varchar', length: 2048, charset: 'ascii', collation: 'ascii_bin' })
  publicKey: string;

  @Column({
    name: 'sign_count',
    type: 'bigint',
    transformer: { to: (value: number) => value, from: (value: string | number) => Number(value) },
  })
  signCount: number;

  /** Comma separated: usb, nfc, ble, smart-card, hybrid, internal. */
  @Column({ type: 'varchar', length: 128, charset: 'ascii', collation: 'ascii_bin' })
  transports: string;

  @Column({ name: 'backup_eligible', type: 'boolean' })
  backupEligible: boolean;

  @Column({ name: 'backed_up', type: 'boolean' })
  backedUp: boolean;

  /** The authenticator model's AAGUID (lower case, dashes); all zeros when it gave none. */
  @Column({ type: 'varchar', length: 36, charset: 'ascii', collation: 'ascii_bin', default: ZERO_AAGUID })
  aaguid: string;

  /** The registration's attestation verified against a root the Metadata Service gives for that AAGUID. */
  @Column({ type: 'boolean', default: false })
  attested: boolean;

  /** The backup-eligible flag was unset at registration: the key cannot be synced. */
  @Column({ name: 'device_bound', type: 'boolean', default: false })
  deviceBound: boolean;

  /** Plain text, never interpreted as markup. */
  @Column({ type: 'varchar', length: 64, charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  name: string;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}
