import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../infra/db/columns';

const ascii = { charset: 'ascii', collation: 'ascii_bin' } as const;

/**
 * Each running instance and the key it seals with, as it last said (every
 * LIMITS.keyRotationIntervalSeconds): re-encryption runs only while every live
 * instance seals with the same key, so two configurations never undo each
 * other's work during a rolling deploy (docs/adr/0022-ciphertexts-bound-and-rotated.md).
 */
@Entity('encryption_instances')
export class EncryptionInstanceRecord {
  @PrimaryColumn({ name: 'instance_id', type: 'varchar', length: 36, ...ascii })
  instanceId: string;

  @Column({ name: 'current_key_id', type: 'varchar', length: 16, ...ascii })
  currentKeyId: string;

  @TimestampColumn({ name: 'seen_at' })
  seenAt: Date;
}
