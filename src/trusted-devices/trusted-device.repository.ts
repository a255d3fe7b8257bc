import { In, type EntityManager } from 'typeorm';
import type { Database, Statement } from '../infra/db/database';
import { sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import { UserRecord } from '../users/user.entity';
import { TrustedDeviceRecord } from './trusted-device.entity';

const devices = new Table(TrustedDeviceRecord);
const users = new Table(UserRecord);

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
  constructor(private readonly database: Database) {}

  async insert(manager: EntityManager, device: TrustedDeviceRecord): Promise<void> {
    await manager.insert(TrustedDeviceRecord, device);
  }

  /**
   * What a login with a device token decides, read in one round trip inside its
   * transaction (ADR 0013): the device of this user with one of these token
   * hashes (the unique index), unexpired, locked, so a revocation either commits
   * first (no row) or waits for this use; and, without locks, whether the user
   * has two-factor on and no organization of the user forbids trusted devices.
   */
  usableReads(userId: string, tokenHashes: string[], now: Date): Statement[] {
    return [
      {
        sql: `SELECT ${devices.columns('id', 'name', 'signInStrength')} FROM ${devices.name}
               WHERE ${devices.column('tokenHash')} IN (${tokenHashes.map(() => '?').join(', ')})
                 AND ${devices.column('userId')} = ? AND ${devices.column('expiresAt')} > ?
               LIMIT 1${this.database.forUpdate}`,
        parameters: [...tokenHashes, userId, sqlTime(now)],
      },
      {
        sql: `SELECT owner.${users.column('id')} FROM ${users.name} owner
               WHERE owner.${users.column('id')} = ? AND owner.${users.column('twoFactorEnabled')} = 1
                 AND NOT EXISTS (${forbiddingOrganizationOf(`owner.${users.column('id')}`)})`,
        parameters: [userId],
      },
    ];
  }

  /** The device `usableReads` found, when it may sign the user in. */
  usableOf([device, allowed]: Record<string, unknown>[][]): UsableDevice | null {
    if (device.length === 0 || allowed.length === 0) return null;
    return devices.row(device[0], 'id', 'name', 'signInStrength');
  }

  /** Records a use of the device the caller locked (queued with the COMMIT). */
  async recordUse(manager: EntityManager, id: string, now: Date): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${devices.name} SET ${devices.assignments('lastUsedAt')} WHERE ${devices.column('id')} = ?`,
      parameters: [sqlTime(now), id],
    });
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
