import type { EntityManager } from 'typeorm';
import { MembershipRecord } from '../entities';
import type { OrganizationRoleValue } from '../entities/membership.entity';
import { rawBoolean, rawDate } from '../raw-values';

export interface MemberPageQuery {
  organizationId: string;
  afterUserId?: string;
  limit: number;
  twoFactorEnabled?: boolean;
  role?: OrganizationRoleValue;
}

/** What decides a member's access, read in one query. */
export interface AccessFacts {
  twoFactorEnabled: boolean;
  requiresTwoFactor: boolean;
  gracePeriodEndsAt: Date | null;
}

export class MembershipRepository {
  find(manager: EntityManager, organizationId: string, userId: string): Promise<MembershipRecord | null> {
    return manager.findOneBy(MembershipRecord, { organizationId, userId });
  }

  findByUser(manager: EntityManager, userId: string): Promise<MembershipRecord[]> {
    return manager.find(MembershipRecord, { where: { userId }, order: { organizationId: 'ASC' } });
  }

  /**
   * The membership joined to its organization by primary keys; null when not a
   * member. Plain SQL: on the hottest read, building it with the query builder
   * cost more than running it.
   */
  async accessFacts(manager: EntityManager, organizationId: string, userId: string): Promise<AccessFacts | null> {
    const [row] = await manager.query(
      `SELECT m.two_factor_enabled, o.requires_two_factor, o.grace_period_ends_at
         FROM memberships m JOIN organizations o ON o.id = m.organization_id
        WHERE m.organization_id = ? AND m.user_id = ?`,
      [organizationId, userId],
    );
    if (!row) return null;
    return {
      twoFactorEnabled: rawBoolean(row.two_factor_enabled),
      requiresTwoFactor: rawBoolean(row.requires_two_factor),
      gracePeriodEndsAt: rawDate(row.grace_period_ends_at),
    };
  }

  async save(manager: EntityManager, membership: MembershipRecord): Promise<void> {
    await manager.upsert(MembershipRecord, membership, ['organizationId', 'userId']);
  }

  async delete(manager: EntityManager, organizationId: string, userId: string): Promise<void> {
    await manager.delete(MembershipRecord, { organizationId, userId });
  }

  async deleteByOrganization(manager: EntityManager, organizationId: string): Promise<void> {
    await manager.delete(MembershipRecord, { organizationId });
  }

  async deleteByUser(manager: EntityManager, userId: string): Promise<void> {
    await manager.delete(MembershipRecord, { userId });
  }

  /** Keeps the copy of the user's two-factor state on each membership in step. */
  async setTwoFactorForUser(manager: EntityManager, userId: string, enabled: boolean): Promise<void> {
    await manager.update(MembershipRecord, { userId }, { twoFactorEnabled: enabled });
  }

  /** The ids of the organization's owners without two-factor, in id order (an index range scan). */
  async ownersWithoutTwoFactor(manager: EntityManager, organizationId: string, limit: number): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(MembershipRecord, 'membership')
      .select('membership.userId', 'userId')
      .where('membership.organizationId = :organizationId', { organizationId })
      .andWhere('membership.role = :role', { role: 'OWNER' })
      .andWhere('membership.twoFactorEnabled = :enabled', { enabled: false })
      .orderBy('membership.userId', 'ASC')
      .limit(limit)
      .getRawMany<{ userId: string }>();
    return rows.map((row) => row.userId);
  }

  /** One page, ordered by user id: an index range scan on (organization, [two-factor], [role], user). */
  page(manager: EntityManager, query: MemberPageQuery): Promise<MembershipRecord[]> {
    const builder = manager
      .createQueryBuilder(MembershipRecord, 'membership')
      .where('membership.organizationId = :organizationId', { organizationId: query.organizationId });
    if (query.twoFactorEnabled !== undefined) {
      builder.andWhere('membership.twoFactorEnabled = :twoFactorEnabled', { twoFactorEnabled: query.twoFactorEnabled });
    }
    if (query.role !== undefined) builder.andWhere('membership.role = :role', { role: query.role });
    if (query.afterUserId !== undefined) builder.andWhere('membership.userId > :after', { after: query.afterUserId });
    // The index whose order is the page's: otherwise MySQL may walk the primary key
    // in user order and filter row by row, which grows with the organization.
    const index =
      query.twoFactorEnabled !== undefined && query.role !== undefined
        ? 'idx_memberships_org_tfa_role_user'
        : query.twoFactorEnabled !== undefined
          ? 'idx_memberships_org_tfa_user'
          : query.role !== undefined
            ? 'idx_memberships_org_role_user'
            : 'PRIMARY';
    return builder.useIndex(index).orderBy('membership.userId', 'ASC').limit(query.limit).getMany();
  }
}
