import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../infra/db/columns';

/**
 * The Metadata Service blob every instance uses: one row (`id` = 'current'),
 * written by `npm run mds:load` and by a start with a newer FIDO_MDS_BLOB_FILE,
 * read by each instance every LIMITS.metadataRefreshSeconds (the version only,
 * by primary key; the models when it changed). ADR 0016.
 */
@Entity('metadata_service')
export class MetadataServiceRecord {
  @PrimaryColumn({ type: 'varchar', length: 16, charset: 'ascii', collation: 'ascii_bin' })
  id: string;

  /** Grows by one with every blob stored. */
  @Column({ type: 'int' })
  version: number;

  /** The blob's `no`: a blob may only be replaced by a higher one (no rollback to before a compromise report). */
  @Column({ name: 'blob_number', type: 'int' })
  blobNumber: number;

  @TimestampColumn({ name: 'next_update' })
  nextUpdate: Date;

  @TimestampColumn({ name: 'loaded_at' })
  loadedAt: Date;

  /** Every entry of the blob (models with an AAGUID, and U2F and UAF ones). */
  @Column({ type: 'int' })
  entries: number;
}

/**
 * The models of the current blob, by AAGUID: replaced whole, with the row
 * above, in one transaction. Small (hundreds of rows), so readers that filter
 * in SQL may join it (e.g. leave out compromised models) instead of copying
 * its verdicts onto credentials.
 */
@Entity('authenticator_models')
export class AuthenticatorModelRecord {
  /** Lower case, with dashes. */
  @PrimaryColumn({ type: 'varchar', length: 36, charset: 'ascii', collation: 'ascii_bin' })
  aaguid: string;

  @Column({ type: 'varchar', length: 255, charset: 'utf8mb4', collation: 'utf8mb4_bin' })
  name: string;

  /** FIDO_CERTIFIED, FIDO_CERTIFIED_L1 ..., comma separated. */
  @Column({ type: 'varchar', length: 255, charset: 'ascii', collation: 'ascii_bin' })
  certifications: string;

  @Column({ type: 'boolean' })
  compromised: boolean;

  /** The model's attestation roots: base64 DER, comma separated. */
  @Column({ name: 'attestation_roots', type: 'text', charset: 'ascii', collation: 'ascii_bin' })
  attestationRoots: string;
}

export const AUTHENTICATOR_ENTITIES = [MetadataServiceRecord, AuthenticatorModelRecord];
