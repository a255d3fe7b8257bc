import type { DataSource } from 'typeorm';
import { Database } from '../../../src/infra/db/database';
import { MembershipRecord } from '../../../src/organizations/membership.entity';
import { MembershipRepository } from '../../../src/organizations/membership.repository';
import { OrganizationRecord } from '../../../src/organizations/organization.entity';
import { OrganizationRepository } from '../../../src/organizations/organization.repository';
import { UserRecord } from '../../../src/users/user.entity';
import { UserRepository } from '../../../src/users/user.repository';
import { embeddedKit } from '../../support/embedded-kit';
import { withMariaDbDataSource } from '../../support/test-app';

/** Every column set to something other than its default, so a column the plain SQL forgot shows. */
const organization = (): OrganizationRecord =>
  Object.assign(new OrganizationRecord(), {
    id: 'plain-org',
    name: 'Plain SQL, Ltd. ✓',
    requiresTwoFactor: true,
    requiresPhishingResistant: true,
    allowsTrustedDevices: false,
    twoFactorRequiredSince: new Date('2026-11-01T10:00:00.123Z'),
    gracePeriodEndsAt: new Date('2026-12-01T10:00:00.456Z'),
    auditEventsFrom: '42',
    ownersWithTwoFactor: 1,
    ownersWithoutTwoFactor: 2,
    membersWithTwoFactor: 3,
    membersWithoutTwoFactor: 4,
    ownersWithPhishingResistant: 5,
    ownersWithoutPhishingResistant: 6,
    membersWithPhishingResistant: 7,
    membersWithoutPhishingResistant: 8,
    ownersPhishingResistantWithoutTwoFactor: 9,
    membersPhishingResistantWithoutTwoFactor: 10,
    createdAt: new Date('2026-10-01T10:00:00.789Z'),
    updatedAt: new Date('2026-11-15T10:00:00.001Z'),
  });

const user = (): UserRecord =>
  Object.assign(new UserRecord(), {
    id: 'plain-user',
    twoFactorEnabled: true,
    phishingResistant: true,
    enabledAt: new Date('2026-11-02T10:00:00.321Z'),
    failedAttemptsInRow: 3,
    lastTotpStep: 59_000_000,
    recoveryCodesGeneratedAt: new Date('2026-11-03T10:00:00.654Z'),
    createdAt: new Date('2026-11-01T09:00:00.987Z'),
  });

/** The plain-SQL reads (ADR 0005) give what TypeORM's entity reads give, on both databases. */
async function readsLikeTypeorm(database: Database, dataSource: DataSource) {
  const organizations = new OrganizationRepository(database);
  const users = new UserRepository(database);
  const memberships = new MembershipRepository(database);
  await dataSource.manager.save(organization());
  await dataSource.manager.save(user());
  await dataSource.manager.save(
    ['b', 'a', 'c'].map((suffix, i) =>
      Object.assign(new MembershipRecord(), {
        organizationId: 'plain-org',
        userId: `plain-member-${suffix}`,
        role: i === 0 ? 'OWNER' : 'MEMBER',
        twoFactorEnabled: i !== 1,
        phishingResistant: i === 2,
        createdAt: new Date('2026-11-04T10:00:00.000Z'),
      }),
    ),
  );

  const read = await dataSource.manager.findOneByOrFail(OrganizationRecord, { id: 'plain-org' });
  // A bigint id is a string, as the entity declares (TypeORM gives SQLite's as a number).
  const typeorm = { ...read, auditEventsFrom: String(read.auditEventsFrom) };
  expect(await database.run((manager) => organizations.find(manager, 'plain-org'))).toEqual(typeorm);
  expect(await database.run((manager) => organizations.findMany(manager, ['plain-org', 'none']))).toEqual([typeorm]);
  expect(await database.run((manager) => organizations.find(manager, 'none'))).toBeNull();

  const locked = await database.transaction((manager) => users.lock(manager, 'plain-user', new Date()));
  expect(locked).toEqual(await dataSource.manager.findOneByOrFail(UserRecord, { id: 'plain-user' }));

  const page = await database.run((manager) =>
    memberships.page(manager, { organizationId: 'plain-org', limit: 10, twoFactorEnabled: true }),
  );
  expect(page).toEqual([
    { userId: 'plain-member-b', role: 'OWNER', twoFactorEnabled: true },
    { userId: 'plain-member-c', role: 'MEMBER', twoFactorEnabled: true },
  ]);
  const after = await database.run((manager) =>
    memberships.page(manager, {
      organizationId: 'plain-org',
      limit: 10,
      afterUserId: 'plain-member-a',
      role: 'MEMBER',
    }),
  );
  expect(after).toEqual([{ userId: 'plain-member-c', role: 'MEMBER', twoFactorEnabled: true }]);
}

describe('plain-SQL reads', () => {
  it('read what TypeORM reads, on MariaDB', async () => {
    await withMariaDbDataSource((dataSource) => readsLikeTypeorm(new Database(dataSource), dataSource));
  });

  it('read what TypeORM reads, on the embedded SQLite', async () => {
    const kit = await embeddedKit();
    try {
      await readsLikeTypeorm(kit.database, kit.database.dataSource);
    } finally {
      await kit.close();
    }
  });
});
