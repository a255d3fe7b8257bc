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
@Index('idx_memberships_org_ks_user', ['organizationId', 'keySetId', 'userId'])
@Index('idx_memberships_org_ks_role_user', ['organizationId', 'keySetId', 'role', 'userId'])
@Index('idx_memberships_org_tfa_ks_user', ['organizationId', 'twoFactorEnabled', 'keySetId', 'userId'])
@Index('idx_memberships_org_tfa_ks_role_user', ['organizationId', 'twoFactorEnabled', 'keySetId', 'role', 'userId'])
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

  /**
   * The copy of users.key_set_id: which kinds of key the member has. Whether they
   * meet the organization's authenticator policy is judged when read, against the
   * policy and the loaded Metadata Service blob (docs/adr/0021-key-sets.md).
   */
  @Column({ name: 'key_set_id', type: 'int', default: 0 })
  keySetId: number;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
