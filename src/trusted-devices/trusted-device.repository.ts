import { In, type EntityManager } from 'typeorm';
import { UserRecord } from '../infra/db/entities';
import { sqlTime } from '../infra/db/raw-values';
import { TrustedDeviceRecord } from './trusted-device.entity';

/**
 * The user's organizations that forbid trusted devices, as an SQL condition on
 * `userId` (a column or a parameter): by the user's memberships
 * (idx_memberships_user), each joined to its organization by primary key.
 */
const forbiddingOrganizationOf = (userId: string) =>
  `SELECT 1 FROM memberships forbidding_membership
     INNER JOIN organizations forbidding_organization ON forbidding_organization.id = forbidding_membership.organization_id
    WHERE forbidding_membership.user_id = ${userId} AND forbidding_organization.allows_trusted_devices = 0`;

/** What signing in with a device needs of it. */
export interface UsableDevice {
  id: string;
  name: string;
  /** The strength of the sign-in that remembered it (login/amr.ts). */
  signInStrength: string;
}

/** Users' trusted devices; every read that decides something goes through an index. */
export class TrustedDeviceRepository {
  async insert(manager: EntityManager, device: TrustedDeviceRecord): Promise<void> {
    await manager.insert(TrustedDeviceRecord, device);
  }

  /**
   * What a login with a device token decides, in one query: a device of this
   * user with one of these token hashes (the unique index), unexpired, the user
   * with two-factor on (primary key), and no organization of the user
   * forbidding trusted devices (NOT EXISTS over the user's memberships).
   */
  async findUsable(
    manager: EntityManager,
    userId: string,
    tokenHashes: string[],
    now: Date,
  ): Promise<UsableDevice | null> {
    // Plain SQL (ADR 0005): every start with a device token asks this.
    const rows: { id: string; name: string; sign_in_strength: string }[] = await manager.query(
      `SELECT device.id, device.name, device.sign_in_strength FROM trusted_devices device
         INNER JOIN users owner ON owner.id = device.user_id AND owner.two_factor_enabled = 1
        WHERE device.token_hash IN (${tokenHashes.map(() => '?').join(', ')}) AND device.user_id = ? AND device.expires_at > ?
          AND NOT EXISTS (${forbiddingOrganizationOf('device.user_id')})
        LIMIT 1`,
      [...tokenHashes, userId, sqlTime(now)],
    );
    if (rows.length === 0) return null;
    const [row] = rows;
    return { id: String(row.id), name: String(row.name), signInStrength: String(row.sign_in_strength) };
  }

  /**
   * Whether every organization of the user allows trusted devices (true for a
   * user in none), by the same condition as findUsable. The user's row exists:
   * the caller holds its lock.
   */
  async organizationsAllow(manager: EntityManager, userId: string): Promise<boolean> {
    const allowed = await manager
      .createQueryBuilder(UserRecord, 'owner')
      .select('owner.id', 'id')
      .where('owner.id = :userId', { userId })
      .andWhere(`NOT EXISTS (${forbiddingOrganizationOf('owner.id')})`)
      .getRawOne();
    return allowed !== undefined;
  }

  /** Records a use, only while the device still exists and has not expired: of a use and a revocation, one comes first. */
  async markUsed(manager: EntityManager, id: string, now: Date): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(TrustedDeviceRecord)
      .set({ lastUsedAt: now })
      .where('id = :id', { id })
      .andWhere('expires_at > :now', { now })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  /** Unexpired devices of these users, newest first (idx_trusted_devices_user). */
  listUnexpired(manager: EntityManager, userIds: readonly string[], now: Date): Promise<TrustedDeviceRecord[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return manager
      .createQueryBuilder(TrustedDeviceRecord, 'device')
      .where('device.userId IN (:...userIds)', { userIds })
      .andWhere('device.expiresAt > :now', { now })
      .orderBy('device.createdAt', 'DESC')
      .addOrderBy('device.id', 'DESC')
      .getMany();
  }

  /** The ids of the user's devices past the newest `keep` (the oldest go first); a user has at most one more. */
  async idsBeyond(manager: EntityManager, userId: string, keep: number): Promise<string[]> {
    const rows = await manager.find(TrustedDeviceRecord, {
      select: { id: true },
      where: { userId },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    return rows.slice(keep).map((row) => row.id);
  }

  async deleteExpiredOf(manager: EntityManager, userId: string, now: Date): Promise<number> {
    const result = await manager
      .createQueryBuilder()
      .delete()
      .from(TrustedDeviceRecord)
      .where('user_id = :userId', { userId })
      .andWhere('expires_at <= :now', { now })
      .execute();
    return result.affected ?? 0;
  }

  /** The ids of up to `limit` expired devices of anyone, the longest expired first (idx_trusted_devices_expires). */
  async expiredIds(manager: EntityManager, now: Date, limit: number): Promise<string[]> {
    const rows = await manager
      .createQueryBuilder(TrustedDeviceRecord, 'device')
      .select('device.id', 'id')
      .where('device.expiresAt <= :now', { now })
      .orderBy('device.expiresAt', 'ASC')
      .limit(limit)
      .getRawMany<{ id: string }>();
    return rows.map((row) => row.id);
  }

  /** Deletes these devices, those of them that have expired by `now` only when `onlyExpired` is given. */
  async deleteMany(manager: EntityManager, ids: string[], onlyExpired?: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const query = manager
      .createQueryBuilder()
      .delete()
      .from(TrustedDeviceRecord)
      .where({ id: In(ids) });
    if (onlyExpired) query.andWhere('expires_at <= :now', { now: onlyExpired });
    return (await query.execute()).affected ?? 0;
  }

  async delete(manager: EntityManager, userId: string, id: string): Promise<TrustedDeviceRecord | null> {
    const device = await manager.findOneBy(TrustedDeviceRecord, { userId, id });
    if (!device) return null;
    const result = await manager.delete(TrustedDeviceRecord, { userId, id });
    return (result.affected ?? 0) > 0 ? device : null;
  }

  /** Deletes every device of the user; returns how many there were. */
  async deleteAll(manager: EntityManager, userId: string): Promise<number> {
    return (await manager.delete(TrustedDeviceRecord, { userId })).affected ?? 0;
  }
}
