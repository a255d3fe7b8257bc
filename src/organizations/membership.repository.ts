import type { EntityManager } from 'typeorm';
import type { Database } from '../infra/db/database';
import { rawBoolean, rawDate } from '../infra/db/raw-values';
import { MembershipRecord } from './membership.entity';
import type { OrganizationRoleValue } from './membership.entity';

export interface MemberPageQuery {
  organizationId: string;
  afterUserId?: string;
  limit: number;
  twoFactorEnabled?: boolean;
  phishingResistant?: boolean;
  /** Only members whose key set is one of these (docs/adr/0021-key-sets.md); empty: none. */
  keySetIds?: readonly number[];
  role?: OrganizationRoleValue;
}

/** What a members page shows of each member. */
export interface MemberPageRow {
  userId: string;
  role: OrganizationRoleValue;
  twoFactorEnabled: boolean;
}

/**
 * The index whose order is a page's, by the filters given (in this order: two-factor,
 * phishing-resistant, role): equality on every column before the user id, so the
 * page is a range scan that stops after `limit` rows at any size.
 */
const PAGE_INDEXES: Record<string, string> = {
  '': 'PRIMARY',
  tfa: 'idx_memberships_org_tfa_user',
  pr: 'idx_memberships_org_pr_user',
  role: 'idx_memberships_org_role_user',
  'tfa,pr': 'idx_memberships_org_tfa_pr_user',
  'tfa,role': 'idx_memberships_org_tfa_role_user',
  'pr,role': 'idx_memberships_org_pr_role_user',
  'tfa,pr,role': 'idx_memberships_org_tfa_pr_role_user',
};

/** The same, for a page by key set: one range scan per key set (key set, then the other filters). */
const KEY_SET_PAGE_INDEXES: Record<string, string> = {
  '': 'idx_memberships_org_ks_user',
  tfa: 'idx_memberships_org_tfa_ks_user',
  role: 'idx_memberships_org_ks_role_user',
  'tfa,role': 'idx_memberships_org_tfa_ks_role_user',
};

const pageRow = (row: Record<string, unknown>): MemberPageRow => ({
  userId: String(row.user_id),
  role: String(row.role) as OrganizationRoleValue,
  twoFactorEnabled: rawBoolean(row.two_factor_enabled),
});

/** What decides a member's access, read in one query. */
export interface AccessFacts {
  twoFactorEnabled: boolean;
  /**
   * Whether the member has a key the organization's authenticator policy
   * accepts: judged by OrganizationService.access from the key set read here
   * (false as read); read through hasAcceptedKey.
   */
  phishingResistant: boolean;
  /** The member's key set and its kinds (key_sets.kinds; null for no key). */
  keySetId?: number;
  keySetKinds?: string | null;
  /** The organization's authenticator policy, as stored. */
  allowedAaguids?: string;
  requireDeviceBound?: boolean;
  requiresTwoFactor: boolean;
  requiresPhishingResistant: boolean;
  gracePeriodEndsAt: Date | null;
  /** Whether the organization takes the identity provider's multi-factor ("mfa") for an any-factor requirement. */
  acceptsIdentityProviderMfa?: boolean;
  /** The member's exemption's end (in force while it lies ahead); null or absent without one. */
  exemptUntil?: Date | null;
}

export class MembershipRepository {
  constructor(readonly database: Database) {}

  find(manager: EntityManager, organizationId: string, userId: string): Promise<MembershipRecord | null> {
    return manager.findOneBy(MembershipRecord, { organizationId, userId });
  }

  findByUser(manager: EntityManager, userId: string): Promise<MembershipRecord[]> {
    return manager.find(MembershipRecord, { where: { userId }, order: { organizationId: 'ASC' } });
  }

  /**
   * The membership joined to its organization and to the member's exemption, all
   * by primary keys, in one statement; null when not a member. Plain SQL: on the
   * hottest read, building it with the query builder cost more than running it.
   */
  async accessFacts(manager: EntityManager, organizationId: string, userId: string): Promise<AccessFacts | null> {
    const [row] = await manager.query(
      `SELECT m.two_factor_enabled, m.key_set_id, k.kinds, o.requires_two_factor, o.requires_phishing_resistant,
              o.grace_period_ends_at, o.accepts_identity_provider_mfa, o.allowed_aaguids, o.require_device_bound, e.ends_at
         FROM memberships m JOIN organizations o ON o.id = m.organization_id
         LEFT JOIN two_factor_exemptions e ON e.organization_id = m.organization_id AND e.user_id = m.user_id
         LEFT JOIN key_sets k ON k.id = m.key_set_id
        WHERE m.organization_id = ? AND m.user_id = ?`,
      [organizationId, userId],
    );
    if (!row) return null;
    return {
      twoFactorEnabled: rawBoolean(row.two_factor_enabled),
      phishingResistant: false,
      keySetId: Number(row.key_set_id ?? 0),
      keySetKinds: row.kinds === null || row.kinds === undefined ? null : String(row.kinds),
      allowedAaguids: String(row.allowed_aaguids ?? ''),
      requireDeviceBound: rawBoolean(row.require_device_bound),
      requiresTwoFactor: rawBoolean(row.requires_two_factor),
      requiresPhishingResistant: rawBoolean(row.requires_phishing_resistant),
      gracePeriodEndsAt: rawDate(row.grace_period_ends_at),
      acceptsIdentityProviderMfa: rawBoolean(row.accepts_identity_provider_mfa),
      exemptUntil: rawDate(row.ends_at),
    };
  }

  /** The ends of the user's exemptions, by organization (in force or not: readers compare with now). */
  async exemptionEndsOfUser(manager: EntityManager, userId: string): Promise<Map<string, Date>> {
    const rows = (await manager.query('SELECT organization_id, ends_at FROM two_factor_exemptions WHERE user_id = ?', [
      userId,
    ])) as Record<string, unknown>[];
    return new Map(rows.map((row) => [String(row.organization_id), rawDate(row.ends_at)!]));
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

  /** Keeps the copies of the user's keys (any key, and its key set) on each membership in step. */
  async setKeysForUser(manager: EntityManager, userId: string, value: boolean, keySetId: number): Promise<void> {
    await manager.update(MembershipRecord, { userId }, { phishingResistant: value, keySetId });
  }

  /** The ids of the organization's owners without two-factor, in id order (an index range scan). */
  ownersWithoutTwoFactor(manager: EntityManager, organizationId: string, limit: number): Promise<string[]> {
    return this.ownersWithout(manager, organizationId, 'twoFactorEnabled', limit);
  }

  /**
   * The ids of the organization's owners whose key set is one of `keySetIds`
   * (those the policy does not accept: KeyJudge.setIds), in id order: a range
   * scan per key set.
   */
  async ownersWithKeySets(
    manager: EntityManager,
    organizationId: string,
    keySetIds: readonly number[],
    limit: number,
  ): Promise<string[]> {
    const rows = await this.page(manager, { organizationId, role: 'OWNER', keySetIds, limit });
    return rows.map((row) => row.userId);
  }

  private async ownersWithout(
    manager: EntityManager,
    organizationId: string,
    flag: 'twoFactorEnabled',
    limit: number,
  ): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(MembershipRecord, 'membership')
      .select('membership.userId', 'userId')
      .where('membership.organizationId = :organizationId', { organizationId })
      .andWhere('membership.role = :role', { role: 'OWNER' })
      .andWhere(`membership.${flag} = :value`, { value: false })
      .orderBy('membership.userId', 'ASC')
      .limit(limit)
      .getRawMany<{ userId: string }>();
    return rows.map((row) => row.userId);
  }

  /** One page, ordered by user id: an index range scan on (organization, [two-factor], [phishing-resistant], [role], user). */
  /**
   * A page of members in user-id order. Plain SQL (ADR 0005): the organization
   * page reads 51 rows a request, and hydrating them as entities through the query
   * builder was a tenth of the service's CPU on it.
   */
  async page(manager: EntityManager, query: MemberPageQuery): Promise<MemberPageRow[]> {
    if (query.keySetIds !== undefined) return this.pageByKeySets(manager, query, query.keySetIds);
    const conditions = ['organization_id = ?'];
    const parameters: unknown[] = [query.organizationId];
    const filters: string[] = [];
    if (query.twoFactorEnabled !== undefined) {
      conditions.push('two_factor_enabled = ?');
      parameters.push(query.twoFactorEnabled ? 1 : 0);
      filters.push('tfa');
    }
    if (query.phishingResistant !== undefined) {
      conditions.push('phishing_resistant = ?');
      parameters.push(query.phishingResistant ? 1 : 0);
      filters.push('pr');
    }
    if (query.role !== undefined) {
      conditions.push('role = ?');
      parameters.push(query.role);
      filters.push('role');
    }
    if (query.afterUserId !== undefined) {
      conditions.push('user_id > ?');
      parameters.push(query.afterUserId);
    }
    // The index whose order is the page's: otherwise MySQL may walk the primary key
    // in user order and filter row by row, which grows with the organization. FORCE,
    // not USE: with USE, MariaDB reads a page after a cursor as `ref` on the equal
    // columns and skips to the cursor row by row (85 ms deep in a million members),
    // where the range from the cursor reads the page alone.
    const index = this.database.isMysql ? ` FORCE INDEX (\`${PAGE_INDEXES[filters.join(',')]}\`)` : '';
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT user_id, role, two_factor_enabled FROM memberships${index}
        WHERE ${conditions.join(' AND ')} ORDER BY user_id LIMIT ?`,
      [...parameters, query.limit],
    );
    return rows.map((row) => ({
      userId: String(row.user_id),
      role: String(row.role) as OrganizationRoleValue,
      twoFactorEnabled: rawBoolean(row.two_factor_enabled),
    }));
  }

  /**
   * A page of the members whose key set is one of `keySetIds`: for each set, a
   * range scan of (organization, [two-factor], key set, [role], user) from the
   * cursor that stops after `limit` rows, the few scans merged in user-id order.
   * An organization has few distinct key sets, so the page stays flat at any size
   * (docs/adr/0021-key-sets.md).
   */
  private async pageByKeySets(
    manager: EntityManager,
    query: MemberPageQuery,
    keySetIds: readonly number[],
  ): Promise<MemberPageRow[]> {
    if (keySetIds.length === 0) return [];
    const filters: string[] = [];
    const conditions = ['organization_id = ?'];
    const parameters: unknown[] = [query.organizationId];
    if (query.twoFactorEnabled !== undefined) {
      conditions.push('two_factor_enabled = ?');
      parameters.push(query.twoFactorEnabled ? 1 : 0);
      filters.push('tfa');
    }
    if (query.role !== undefined) {
      conditions.push('role = ?');
      parameters.push(query.role);
      filters.push('role');
    }
    if (query.afterUserId !== undefined) {
      conditions.push('user_id > ?');
      parameters.push(query.afterUserId);
    }
    const index = this.database.isMysql ? ` FORCE INDEX (\`${KEY_SET_PAGE_INDEXES[filters.join(',')]}\`)` : '';
    if (keySetIds.length === 1) {
      // One key set (the usual case: every key accepted, or none): the range scan alone.
      const rows: Record<string, unknown>[] = await manager.query(
        `SELECT user_id, role, two_factor_enabled FROM memberships${index}
          WHERE ${conditions.join(' AND ')} AND key_set_id = ? ORDER BY user_id LIMIT ?`,
        [...parameters, keySetIds[0], query.limit],
      );
      return rows.map(pageRow);
    }
    const scans = keySetIds.map(
      (_, i) =>
        `SELECT * FROM (SELECT user_id, role, two_factor_enabled FROM memberships${index}
          WHERE ${conditions.join(' AND ')} AND key_set_id = ? ORDER BY user_id LIMIT ?) AS s${i}`,
    );
    const rows: Record<string, unknown>[] = await manager.query(
      `${scans.join('\n UNION ALL ')}\n ORDER BY user_id LIMIT ?`,
      [...keySetIds.flatMap((id) => [...parameters, id, query.limit]), query.limit],
    );
    return rows.map(pageRow);
  }
}
