import { Entity } from 'typeorm';
import { PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';

/**
 * An organization deleted whose memberships are still being removed, in batches,
 * in the background (directory/organization-purge.ts). The organization's row is
 * gone already, so it has disappeared from every read.
 */
@Entity('organization_deletions')
export class OrganizationDeletionRecord {
  @PrimaryIdColumn({ name: 'organization_id' })
  organizationId: string;

  @TimestampColumn({ name: 'deleted_at' })
  deletedAt: Date;
}
