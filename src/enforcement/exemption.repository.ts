import type { EntityManager } from 'typeorm';
import type { Database } from '../infra/db/database';
import { rawBoolean, rawDate, rawNumber, sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import { MembershipRecord } from '../organizations/membership.entity';
import type { OrganizationRoleValue } from '../organizations/membership.entity';
import type { MemberPageRow } from '../organizations/membership.repository';
import { TwoFactorExemptionRecord } from '../organizations/two-factor-exemption.entity';

const exemptions = new Table(TwoFactorExemptionRecord);
const memberships = new Table(MembershipRecord);

const E = {
  table: exemptions.name,
  organization: exemptions.column('organizationId'),
  user: exemptions.column('userId'),
  endsAt: exemptions.column('endsAt'),
};
const M = {
  table: memberships.name,
  organization: memberships.column('organizationId'),
  user: memberships.column('userId'),
  role: memberships.column('role'),
  twoFactor: memberships.column('twoFactorEnabled'),
  keySet: memberships.column('keySetId'),
};

const EXEMPTION_PROPERTIES = ['organizationId', 'userId', 'reason', 'grantedBy', 'grantedAt', 'endsAt'] as const;
const EXEMPTION_COLUMNS = exemptions.columns(...EXEMPTION_PROPERTIES);

/**
 * Who lacks what a requirement accepts: `null` for any factor (the copy of
 * two-factor is off); for a phishing-resistant one, the key sets the
 * organization's authenticator policy does not accept now (KeyJudge.setIds, no
 * key included), as the membership's copy of the key set says.
 */
export type WithoutAccepted = readonly number[] | null;

const withoutCondition = (without: WithoutAccepted): string =>
  without === null ? `m.${M.twoFactor} = 0` : `m.${M.keySet} IN (${without.map(() => '?').join(', ')})`;
const withoutParameters = (without: WithoutAccepted): number[] => (without === null ? [] : [...without]);

/** The index whose order is the affected page's: (organization, two-factor or key set, user). */
const AFFECTED_INDEX = { any: 'idx_memberships_org_tfa_user', phishingResistant: 'idx_memberships_org_ks_user' };

const rowsOf = (rows: Record<string, unknown>[]): MemberPageRow[] =>
  rows.map((row) => ({
    userId: String(row[M.user]),
    role: String(row[M.role]) as OrganizationRoleValue,
    twoFactorEnabled: rawBoolean(row[M.twoFactor]),
  }));

/** Where a page of exemptions (soonest end first) goes on from. */
export interface ExemptionPosition {
  endsAt: Date;
  userId: string;
}

/**
 * Exemptions from organizations' requirements, in plain SQL (ADR 0005): every
 * read that asks whether one is in force compares its end with `now`, a
 * parameter (the service's clock), never the database's.
 */
export class ExemptionRepository {
  constructor(private readonly database: Database) {}

  /** The member's exemption row, in force or not; `lock`: FOR UPDATE. */
  async find(
    manager: EntityManager,
    organizationId: string,
    userId: string,
    lock = false,
  ): Promise<TwoFactorExemptionRecord | null> {
    const [row] = (await manager.query(
      `SELECT ${EXEMPTION_COLUMNS} FROM ${E.table} WHERE ${E.organization} = ? AND ${E.user} = ?${lock ? this.database.forUpdate : ''}`,
      [organizationId, userId],
    )) as Record<string, unknown>[];
    return row ? this.record(row) : null;
  }

  /** Grants, or replaces, the member's exemption. */
  async save(manager: EntityManager, exemption: TwoFactorExemptionRecord): Promise<void> {
    await manager.upsert(TwoFactorExemptionRecord, exemption, ['organizationId', 'userId']);
  }

  /** Removes the member's exemption row; whether there was one. */
  async delete(manager: EntityManager, organizationId: string, userId: string): Promise<boolean> {
    const removed = await this.database.write(
      manager,
      `DELETE FROM ${E.table} WHERE ${E.organization} = ? AND ${E.user} = ?`,
      [organizationId, userId],
    );
    return removed > 0;
  }

  /** The user's exemption rows in every organization (the user's own reads, and its changes' events). */
  async ofUser(manager: EntityManager, userId: string): Promise<TwoFactorExemptionRecord[]> {
    const rows = (await manager.query(`SELECT ${EXEMPTION_COLUMNS} FROM ${E.table} WHERE ${E.user} = ?`, [
      userId,
    ])) as Record<string, unknown>[];
    return rows.map((row) => this.record(row));
  }

  /** The ends of the exemptions in force of these members (a page's), by user id. */
  async endsOf(manager: EntityManager, organizationId: string, userIds: readonly string[], now: Date) {
    const ends = new Map<string, Date>();
    if (userIds.length === 0) return ends;
    const rows = (await manager.query(
      `SELECT ${E.user}, ${E.endsAt} FROM ${E.table}
        WHERE ${E.organization} = ? AND ${E.user} IN (${userIds.map(() => '?').join(', ')}) AND ${E.endsAt} > ?`,
      [organizationId, ...userIds, sqlTime(now)],
    )) as Record<string, unknown>[];
    for (const row of rows) ends.set(String(row[E.user]), rawDate(row[E.endsAt])!);
    return ends;
  }

  /**
   * A page of the organization's exemptions in force, soonest end first (then by
   * user id): a range of (organization, end, user).
   */
  async page(
    manager: EntityManager,
    organizationId: string,
    now: Date,
    after: ExemptionPosition | undefined,
    limit: number,
  ): Promise<TwoFactorExemptionRecord[]> {
    const conditions = [`${E.organization} = ?`, `${E.endsAt} > ?`];
    const parameters: unknown[] = [organizationId, sqlTime(now)];
    if (after) {
      conditions.push(`(${E.endsAt} > ? OR (${E.endsAt} = ? AND ${E.user} > ?))`);
      parameters.push(sqlTime(after.endsAt), sqlTime(after.endsAt), after.userId);
    }
    const rows = (await manager.query(
      `SELECT ${EXEMPTION_COLUMNS} FROM ${E.table} WHERE ${conditions.join(' AND ')}
        ORDER BY ${E.endsAt}, ${E.user} LIMIT ?`,
      [...parameters, limit],
    )) as Record<string, unknown>[];
    return rows.map((row) => this.record(row));
  }

  /** How many exemptions of the organization are in force: a range of (organization, end). */
  async countInForce(manager: EntityManager, organizationId: string, now: Date): Promise<number> {
    const [row] = (await manager.query(
      `SELECT COUNT(*) AS n FROM ${E.table}${this.byEnd} WHERE ${E.organization} = ? AND ${E.endsAt} > ?`,
      [organizationId, sqlTime(now)],
    )) as Record<string, unknown>[];
    return rawNumber(row.n);
  }

  /**
   * How many members the requirement would hold are exempt now: exemptions in
   * force (a range of (organization, end)) whose member has no factor it accepts
   * (each joined by primary key). Owners are never exempt, so all are members.
   */
  async countExemptWithout(
    manager: EntityManager,
    organizationId: string,
    now: Date,
    without: WithoutAccepted,
  ): Promise<number> {
    if (without !== null && without.length === 0) return 0;
    const [row] = (await manager.query(
      `SELECT COUNT(*) AS n FROM ${E.table} e${this.byEnd}
         JOIN ${M.table} m ON m.${M.organization} = e.${E.organization} AND m.${M.user} = e.${E.user}
        WHERE e.${E.organization} = ? AND e.${E.endsAt} > ? AND ${withoutCondition(without)}`,
      [organizationId, sqlTime(now), ...withoutParameters(without)],
    )) as Record<string, unknown>[];
    return rawNumber(row.n);
  }

  /**
   * A page of the members a requirement would refuse (or put in grace): no
   * factor it accepts, no exemption in force; in user-id order. A range scan of
   * (organization, accepted, user) that probes each row's exemption by primary
   * key and stops after `limit` rows: it reads past only the exempt among them.
   */
  async affectedPage(
    manager: EntityManager,
    organizationId: string,
    now: Date,
    without: WithoutAccepted,
    afterUserId: string | undefined,
    limit: number,
  ): Promise<MemberPageRow[]> {
    if (without !== null && without.length === 0) return [];
    // FORCE, not USE, as Organization.members pages (MembershipRepository.page): a range from the cursor.
    const index = this.database.isMysql
      ? ` FORCE INDEX (\`${without === null ? AFFECTED_INDEX.any : AFFECTED_INDEX.phishingResistant}\`)`
      : '';
    const exemptionJoin = `LEFT JOIN ${E.table} e ON e.${E.organization} = m.${M.organization} AND e.${E.user} = m.${M.user} AND e.${E.endsAt} > ?`;
    const after = afterUserId === undefined ? '' : ` AND m.${M.user} > ?`;
    const afterParameters = afterUserId === undefined ? [] : [afterUserId];
    if (without === null || without.length === 1) {
      // Any factor, or one key set not accepted (the usual case): the range scan alone.
      const group = without === null ? `m.${M.twoFactor} = 0` : `m.${M.keySet} = ?`;
      return rowsOf(
        (await manager.query(
          `SELECT m.${M.user}, m.${M.role}, m.${M.twoFactor} FROM ${M.table} m${index}
         ${exemptionJoin}
        WHERE m.${M.organization} = ? AND ${group}${after}
          AND e.${E.user} IS NULL
        ORDER BY m.${M.user} LIMIT ?`,
          [sqlTime(now), organizationId, ...withoutParameters(without), ...afterParameters, limit],
        )) as Record<string, unknown>[],
      );
    }
    // One range scan per key set not accepted (an organization has few), merged in user-id order.
    const scans = without.map(
      (_, i) => `SELECT * FROM (SELECT m.${M.user}, m.${M.role}, m.${M.twoFactor} FROM ${M.table} m${index}
         ${exemptionJoin}
        WHERE m.${M.organization} = ? AND m.${M.keySet} = ?${after}
          AND e.${E.user} IS NULL
        ORDER BY m.${M.user} LIMIT ?) AS a${i}`,
    );
    const rows = (await manager.query(`${scans.join('\n UNION ALL ')}\n ORDER BY ${M.user} LIMIT ?`, [
      ...without.flatMap((keySetId) => [sqlTime(now), organizationId, keySetId, ...afterParameters, limit]),
      limit,
    ])) as Record<string, unknown>[];
    return rowsOf(rows);
  }

  /**
   * Exemptions that ran out by `now`, soonest first, locked for this
   * transaction; on MySQL rows another instance holds are skipped, so instances
   * share the work and never end one twice.
   */
  async claimRunOut(manager: EntityManager, now: Date, limit: number): Promise<TwoFactorExemptionRecord[]> {
    const lock = this.database.isMysql ? ' FOR UPDATE SKIP LOCKED' : '';
    const rows = (await manager.query(
      `SELECT ${EXEMPTION_COLUMNS} FROM ${E.table} WHERE ${E.endsAt} <= ?
        ORDER BY ${E.endsAt}, ${E.organization}, ${E.user} LIMIT ?${lock}`,
      [sqlTime(now), limit],
    )) as Record<string, unknown>[];
    return rows.map((row) => this.record(row));
  }

  /**
   * The index of (organization, end, user), for the counts: only the exemptions
   * in force are read, from the index alone. Left to itself MariaDB may read the
   * organization's rows by primary key instead, ended ones included.
   */
  private get byEnd(): string {
    return this.database.isMysql ? ' USE INDEX (`idx_exemptions_org_ends_user`)' : '';
  }

  private record(row: Record<string, unknown>): TwoFactorExemptionRecord {
    return Object.assign(new TwoFactorExemptionRecord(), exemptions.row(row, ...EXEMPTION_PROPERTIES));
  }
}
