import { Column, Entity, Index } from 'typeorm';
import { PrimaryIdColumn, TimestampColumn } from '../infra/db/columns';

export type OrganizationRoleValue = 'OWNER' | 'MEMBER';

/**
 * A user's membership. `twoFactorEnabled` and `phishingResistant` copy the user's
 * state (kept in step in the same transaction) so filtered member pages are index
 * range scans: one index per combination of filters, each ending in the user id.
 */
@Entity('memberships')
@Index('idx_memberships_user', ['userId'])
@Index('idx_memberships_org_tfa_user', ['organizationId', 'twoFactorEnabled', 'userId'])
@Index('idx_memberships_org_role_user', ['organizationId', 'role', 'userId'])
@Index('idx_memberships_org_tfa_role_user', ['organizationId', 'twoFactorEnabled', 'role', 'userId'])
@Index('idx_memberships_org_pr_user', ['organizationId', 'phishingResistant', 'userId'])
@Index('idx_memberships_org_pr_role_user', ['organizationId', 'phishingResistant', 'role', 'userId'])
@Index('idx_memberships_org_tfa_pr_user', ['organizationId', 'twoFactorEnabled', 'phishingResistant', 'userId'])
@Index('idx_memberships_org_tfa_pr_role_user', [
  'organizationId',
  'twoFactorEnabled',
  'phishingResistant',
  'role',
  'userId',
])
export class MembershipRecord {
  @PrimaryIdColumn({ name: 'organization_id' })
  organizationId: string;

  @PrimaryIdColumn({ name: 'user_id' })
  userId: string;

  @Column({ type: 'varchar', length: 8, charset: 'ascii', collation: 'ascii_bin' })
  role: OrganizationRoleValue;

  @Column({ name: 'two_factor_enabled', type: 'boolean', default: false })
  twoFactorEnabled: boolean;

  @Column({ name: 'phishing_resistant', type: 'boolean', default: false })
  phishingResistant: boolean;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
