import { type EntityManager, In, LessThanOrEqual, MoreThan } from 'typeorm';
import { AuditEventRecord } from '../../../../src/audit/audit-event.entity';
import { AuditEventRepository } from '../../../../src/audit/audit-event.repository';
import { ManualClock } from '../../../../src/infra/clock';
import { SpentLoginChallengeRecord } from '../../../../src/login/spent-login-challenge.entity';
import { SpentLoginChallenges } from '../../../../src/login/spent-login-challenges';
import { MembershipRecord } from '../../../../src/organizations/membership.entity';
import { OrganizationRecord } from '../../../../src/organizations/organization.entity';
import { TrustedDeviceRecord } from '../../../../src/trusted-devices/trusted-device.entity';
import { TrustedDeviceRepository, type UsableDevice } from '../../../../src/trusted-devices/trusted-device.repository';
import { UserRecord } from '../../../../src/users/user.entity';
import { filled, type PlainSqlCase, withoutId, writesAlike } from './harness';
import { organization } from './organizations';
import { putUser, user } from './users';

const NOW = new Date('2026-12-01T12:00:00.000Z');

const hashOf = (name: string) => `hash-${name}`.padEnd(64, '0');

const auditEvent = (userId: string): Omit<AuditEventRecord, 'id'> => {
  const { id: _id, ...event } = filled(AuditEventRecord, {
    action: 'TOTP_CODE_ACCEPTED',
    userId,
    organizationId: 'audit-org',
    actorId: 'login-service',
    reason: 'a reason, ✓ with "quotes"',
    clientIp: '2001:db8::1',
    occurredAt: new Date('2026-12-01T10:00:00.789Z'),
  });
  return event;
};

const spentChallenge = (name: string, expiresAt: Date) =>
  filled(SpentLoginChallengeRecord, { challengeHash: hashOf(name), userId: `spender-${name}`, expiresAt });

/** Replaces the challenges of these names with rows expiring at these times. */
async function putSpent(manager: EntityManager, rows: [string, Date][]): Promise<void> {
  await manager.delete(SpentLoginChallengeRecord, { challengeHash: In(rows.map(([name]) => hashOf(name))) });
  await manager.insert(
    SpentLoginChallengeRecord,
    rows.map(([name, expiresAt]) => spentChallenge(name, expiresAt)),
  );
}

const device = (id: string, userId: string, changes: Partial<TrustedDeviceRecord> = {}) =>
  filled(TrustedDeviceRecord, {
    id,
    userId,
    tokenHash: hashOf(id),
    name: `Firefox on ${id} ✓`,
    createdAt: new Date('2026-11-01T10:00:00.100Z'),
    expiresAt: new Date('2026-12-31T10:00:00.200Z'),
    lastUsedAt: new Date('2026-11-15T10:00:00.300Z'),
    signInStrength: 'phr',
    ...changes,
  });

/** What `usableReads` decides, from TypeORM's entity reads: the device, if the user may sign in with it. */
async function usableByTypeorm(
  manager: EntityManager,
  userId: string,
  hashes: string[],
  now: Date,
): Promise<UsableDevice | null> {
  const found = await manager.findOne(TrustedDeviceRecord, {
    where: { tokenHash: In(hashes), userId, expiresAt: MoreThan(now) },
  });
  const owner = await manager.findOneBy(UserRecord, { id: userId });
  const memberships = await manager.findBy(MembershipRecord, { userId });
  const organizations = await manager.findBy(OrganizationRecord, {
    id: In(memberships.map((membership) => membership.organizationId)),
  });
  const allowed = organizations.every((one) => one.allowsTrustedDevices);
  if (!found || !owner?.twoFactorEnabled || !allowed) return null;
  return { id: found.id, name: found.name, signInStrength: found.signInStrength };
}

export const SIGN_IN_CASES: PlainSqlCase[] = [
  {
    name: "AuditEventRepository.insert, queued with the COMMIT, writes the row TypeORM's insert writes",
    holds: ['AuditEventRepository.insert'],
    run: (db) =>
      writesAlike(db, {
        seed: (manager) => manager.delete(AuditEventRecord, { userId: 'audit-insert' }),
        plain: (tx) => new AuditEventRepository(db.database).insert(tx, auditEvent('audit-insert')),
        typeorm: (tx) => tx.insert(AuditEventRecord, auditEvent('audit-insert')),
        rows: async (manager) => (await manager.findBy(AuditEventRecord, { userId: 'audit-insert' })).map(withoutId),
      }),
  },
  {
    name: 'a spent login challenge is found as TypeORM finds it, by the answer path and outside it',
    holds: ['SpentLoginChallenges.read', 'SpentLoginChallenges.isSpent'],
    async run({ database, manager }) {
      const spent = new SpentLoginChallenges(database, new ManualClock(NOW));
      await putSpent(manager, [['spent-read', new Date('2026-12-01T12:05:00.000Z')]]);
      await manager.delete(SpentLoginChallengeRecord, { challengeHash: hashOf('spent-none') });
      for (const name of ['spent-read', 'spent-none']) {
        const expected = await manager.existsBy(SpentLoginChallengeRecord, { challengeHash: hashOf(name) });
        const [rows] = await database.transaction((tx) => database.read(tx, [spent.read(hashOf(name))]));
        expect(rows.length > 0).toBe(expected);
        expect(await spent.isSpent(hashOf(name))).toBe(expected);
      }
      expect(await spent.isSpent(hashOf('spent-read'))).toBe(true);
    },
  },
  {
    name: "SpentLoginChallenges.spendIn, queued with the COMMIT, writes the row TypeORM's insert writes",
    holds: ['SpentLoginChallenges.spendIn'],
    run: (db) => {
      const expiresAt = new Date('2026-12-01T12:05:00.321Z');
      const where = { challengeHash: hashOf('spend-in') };
      return writesAlike(db, {
        seed: (manager) => manager.delete(SpentLoginChallengeRecord, where),
        plain: (tx) =>
          new SpentLoginChallenges(db.database, new ManualClock(NOW)).spendIn(
            tx,
            hashOf('spend-in'),
            'spender-spend-in',
            expiresAt,
          ),
        typeorm: (tx) => tx.insert(SpentLoginChallengeRecord, spentChallenge('spend-in', expiresAt)),
        rows: (manager) => manager.findBy(SpentLoginChallengeRecord, where),
      });
    },
  },
  {
    name: 'SpentLoginChallenges.purgeExpired removes the expired rows TypeORM finds, the oldest batch on MySQL',
    holds: ['SpentLoginChallenges.purgeExpired'],
    async run(db) {
      const batch = 2;
      const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
      const seeded: [string, Date][] = [
        ['purge-a', at(-30)],
        ['purge-b', at(-10)],
        ['purge-c', at(-20)],
        ['purge-now', at(0)],
        ['purge-later', at(5)],
      ];
      const rows = (manager: EntityManager) =>
        manager.find(SpentLoginChallengeRecord, { order: { expiresAt: 'ASC', challengeHash: 'ASC' } });
      const { plain, typeorm } = await writesAlike(db, {
        seed: async (manager) => {
          await manager.clear(SpentLoginChallengeRecord);
          await putSpent(manager, seeded);
        },
        // It opens its own transaction, as the background job runs it.
        transaction: false,
        plain: () => new SpentLoginChallenges(db.database, new ManualClock(NOW)).purgeExpired(batch),
        typeorm: async (manager) => {
          // SQLite's DELETE takes no LIMIT there: every expired row goes at once.
          const expired = await manager.find(SpentLoginChallengeRecord, {
            where: { expiresAt: LessThanOrEqual(NOW) },
            order: { expiresAt: 'ASC' },
            take: db.kind === 'MariaDB' ? batch : undefined,
          });
          const deleted = await manager.delete(SpentLoginChallengeRecord, {
            challengeHash: In(expired.map((row) => row.challengeHash)),
          });
          return deleted.affected;
        },
        rows,
      });
      expect(plain).toBe(typeorm);
      expect(plain).toBe(db.kind === 'MariaDB' ? batch : 4);
    },
  },
  {
    name: 'a device sign-in reads the usable device TypeORM finds: unexpired, of this user, two-factor on, no organization forbidding',
    holds: ['TrustedDeviceRepository.usableReads'],
    async run({ database, manager }) {
      const devices = new TrustedDeviceRepository(database);
      const users = ['device-user', 'device-off', 'device-forbidden'];
      await manager.delete(TrustedDeviceRecord, { userId: In(users) });
      await manager.delete(MembershipRecord, { userId: In(users) });
      await manager.delete(OrganizationRecord, { id: In(['device-allows', 'device-forbids']) });
      await putUser(manager, user('device-user'));
      await putUser(manager, user('device-off', { twoFactorEnabled: false }));
      await putUser(manager, user('device-forbidden'));
      await manager.insert(OrganizationRecord, organization('device-allows', { allowsTrustedDevices: true }));
      await manager.insert(OrganizationRecord, organization('device-forbids'));
      await manager.insert(
        MembershipRecord,
        [
          ['device-allows', 'device-user'],
          ['device-allows', 'device-forbidden'],
          ['device-forbids', 'device-forbidden'],
        ].map(([organizationId, userId]) =>
          filled(MembershipRecord, {
            organizationId,
            userId,
            role: 'OWNER',
            twoFactorEnabled: true,
            phishingResistant: true,
            keySetId: 1,
            createdAt: new Date('2026-11-04T10:00:00.000Z'),
          }),
        ),
      );
      await manager.insert(TrustedDeviceRecord, [
        device('laptop', 'device-user'),
        device('expired', 'device-user', { expiresAt: NOW }),
        device('off-laptop', 'device-off'),
        device('forbidden-laptop', 'device-forbidden'),
      ]);
      const asked: [string, string[]][] = [
        ['device-user', [hashOf('laptop')]],
        ['device-user', [hashOf('nothing'), hashOf('laptop')]],
        ['device-user', [hashOf('expired')]],
        ['device-user', [hashOf('off-laptop')]],
        ['device-off', [hashOf('off-laptop')]],
        ['device-forbidden', [hashOf('forbidden-laptop')]],
      ];
      const found: (UsableDevice | null)[] = [];
      for (const [userId, hashes] of asked) {
        const reads = devices.usableReads(userId, hashes, NOW);
        const plain = devices.usableOf(await database.transaction((tx) => database.read(tx, reads)));
        expect(plain).toEqual(await usableByTypeorm(manager, userId, hashes, NOW));
        found.push(plain);
      }
      expect(found.map((one) => one?.id ?? null)).toEqual(['laptop', 'laptop', null, null, null, null]);
    },
  },
  {
    name: "TrustedDeviceRepository.recordUse keeps the last use as TypeORM's update does",
    holds: ['TrustedDeviceRepository.recordUse'],
    run: (db) =>
      writesAlike(db, {
        seed: async (manager) => {
          await manager.delete(TrustedDeviceRecord, { userId: 'device-use' });
          await manager.insert(TrustedDeviceRecord, [
            device('use-laptop', 'device-use'),
            device('use-phone', 'device-use'),
          ]);
        },
        plain: (tx) => new TrustedDeviceRepository(db.database).recordUse(tx, 'use-laptop', NOW),
        typeorm: (tx) => tx.update(TrustedDeviceRecord, { id: 'use-laptop' }, { lastUsedAt: NOW }),
        rows: (manager) => manager.find(TrustedDeviceRecord, { where: { userId: 'device-use' }, order: { id: 'ASC' } }),
      }),
  },
];
