import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { PrimaryIdColumn } from '../infra/db/columns';
import type { OrganizationRoleValue } from './membership.entity';

/**
 * A set of kinds of key, interned (docs/adr/0021-key-sets.md): the distinct
 * (AAGUID, attested, device-bound) of one user's credentials, written as
 * `kinds` (key-sets.ts). Never changed once written, so every instance may
 * keep it in memory. Id 0 (no key) has no row.
 */
@Entity('key_sets')
@Index('idx_key_sets_digest', ['digest'], { unique: true })
export class KeySetRecord {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  /** SHA-256 of `kinds`, hex: what makes one set one row. */
  @Column({ type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin' })
  digest: string;

  @Column({ type: 'varchar', length: 512, charset: 'ascii', collation: 'ascii_bin' })
  kinds: string;
}

/**
 * How many members of an organization have each key set, by role and two-factor:
 * maintained with the organization's counters (OrganizationRepository.moveMember,
 * under its row lock). An organization has few distinct sets, so its compliance
 * reads its few rows and judges each set against the policy and the loaded blob.
 */
@Entity('organization_key_set_counts')
export class OrganizationKeySetCountRecord {
  @PrimaryIdColumn({ name: 'organization_id' })
  organizationId: string;

  @PrimaryColumn({ name: 'key_set_id', type: 'int' })
  keySetId: number;

  @PrimaryColumn({ type: 'varchar', length: 8, charset: 'ascii', collation: 'ascii_bin' })
  role: OrganizationRoleValue;

  @PrimaryColumn({ name: 'two_factor_enabled', type: 'boolean' })
  twoFactorEnabled: boolean;

  @Column({ type: 'int', default: 0 })
  members: number;
}
