import { type EntityManager, type FindOptionsWhere, In, MoreThan } from 'typeorm';
import { OrganizationDeletionRecord } from '../../../../src/directory/organization-deletion.entity';
import { OrganizationPurge } from '../../../../src/directory/organization-purge';
import { ExemptionRepository } from '../../../../src/enforcement/exemption.repository';
import { KeySetRecord } from '../../../../src/organizations/key-set.entity';
import { MembershipRecord, type OrganizationRoleValue } from '../../../../src/organizations/membership.entity';
import {
  type AccessFacts,
  type MemberPageQuery,
  type MemberPageRow,
  MembershipRepository,
} from '../../../../src/organizations/membership.repository';
import { OrganizationRecord } from '../../../../src/organizations/organization.entity';
import { OrganizationRepository } from '../../../../src/organizations/organization.repository';
import { TwoFactorExemptionRecord } from '../../../../src/organizations/two-factor-exemption.entity';
import { exemption } from './enforcement';
import { bigintId, filled, type PlainSqlCase, writesAlike } from './harness';

/** Every column set to something other than its default, so a column the plain SQL forgot shows; then `changes`. */
export const organization = (id: string, changes: Partial<OrganizationRecord> = {}): OrganizationRecord =>
  Object.assign(
    filled(OrganizationRecord, {
      id,
      name: 'Plain SQL, Ltd. ✓',
      requiresTwoFactor: true,
      requiresPhishingResistant: true,
      allowsTrustedDevices: false,
      twoFactorRequiredSince: new Date('2026-11-01T10:00:00.123Z'),
      gracePeriodEndsAt: new Date('2026-12-01T10:00:00.456Z'),
      gracePeriodStartedAt: new Date('2026-11-01T10:00:00.456Z'),
      graceReminderDueAt: new Date('2026-11-24T10:00:00.456Z'),
      acceptsIdentityProviderMfa: true,
      auditEventsFrom: '42',
      allowedAaguids: 'cb69481e-8ff7-4039-93ec-0a2729a154a8,ee882879-721c-4913-9775-3dfcce97072a',
      requireDeviceBound: true,
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
    }),
    changes,
  );

const membership = (
  organizationId: string,
  userId: string,
  role: OrganizationRoleValue,
  twoFactorEnabled: boolean,
  phishingResistant: boolean,
  keySetId = phishingResistant ? 1 : 0,
) =>
  Object.assign(new MembershipRecord(), {
    organizationId,
    userId,
    role,
    twoFactorEnabled,
    phishingResistant,
    keySetId,
    createdAt: new Date('2026-11-04T10:00:00.000Z'),
  });

/** Replaces the organization and its memberships. */
async function putOrganization(
  manager: EntityManager,
  row: OrganizationRecord | null,
  id: string,
  members: MembershipRecord[],
): Promise<void> {
  await manager.delete(MembershipRecord, { organizationId: id });
  await manager.delete(OrganizationRecord, { id });
  if (row) await manager.insert(OrganizationRecord, row);
  if (members.length > 0) await manager.insert(MembershipRecord, members);
}

/** A page of members as TypeORM's find gives it. */
async function pageByTypeorm(manager: EntityManager, query: MemberPageQuery): Promise<MemberPageRow[]> {
  const where: FindOptionsWhere<MembershipRecord> = { organizationId: query.organizationId };
  if (query.twoFactorEnabled !== undefined) where.twoFactorEnabled = query.twoFactorEnabled;
  if (query.phishingResistant !== undefined) where.phishingResistant = query.phishingResistant;
  if (query.keySetIds !== undefined) where.keySetId = In([...query.keySetIds]);
  if (query.role !== undefined) where.role = query.role;
  if (query.afterUserId !== undefined) where.userId = MoreThan(query.afterUserId);
  const rows = await manager.find(MembershipRecord, { where, order: { userId: 'ASC' }, take: query.limit });
  return rows.map(({ userId, role, twoFactorEnabled }) => ({ userId, role, twoFactorEnabled }));
}

export const ORGANIZATION_CASES: PlainSqlCase[] = [
  {
    name: 'OrganizationRepository.find and findMany read the rows TypeORM reads',
    holds: ['OrganizationRepository.findMany'],
    async run({ database, manager }) {
      const organizations = new OrganizationRepository(database);
      await putOrganization(manager, organization('plain-org'), 'plain-org', []);
      const read = await manager.findOneByOrFail(OrganizationRecord, { id: 'plain-org' });
      // A bigint id is a string, as the entity declares it (TypeORM gives SQLite's as a number).
      const typeorm = { ...read, auditEventsFrom: bigintId(read.auditEventsFrom) };
      expect(await database.run((reader) => organizations.find(reader, 'plain-org'))).toEqual(typeorm);
      expect(await database.run((reader) => organizations.findMany(reader, ['plain-org', 'none']))).toEqual([typeorm]);
      expect(await database.run((reader) => organizations.find(reader, 'none'))).toBeNull();
    },
  },
  {
    name: 'a page of members is the page TypeORM finds, with every combination of filters (each its own index on MySQL)',
    holds: ['MembershipRepository.page'],
    async run({ database, manager }) {
      const memberships = new MembershipRepository(database);
      const kinds: [OrganizationRoleValue, boolean, boolean][] = [
        ['OWNER', true, false],
        ['MEMBER', false, false],
        ['MEMBER', true, true],
        ['OWNER', false, true],
        ['MEMBER', true, false],
        ['OWNER', true, true],
      ];
      await putOrganization(
        manager,
        organization('page-org'),
        'page-org',
        kinds.map(([role, tfa, pr], i) =>
          membership('page-org', `page-member-${String.fromCharCode(102 - i)}`, role, tfa, pr),
        ),
      );
      const queries: MemberPageQuery[] = [];
      for (const twoFactorEnabled of [undefined, true, false])
        for (const phishingResistant of [undefined, true, false])
          for (const role of [undefined, 'OWNER', 'MEMBER'] as const)
            for (const afterUserId of [undefined, 'page-member-b'])
              queries.push({
                organizationId: 'page-org',
                limit: 2,
                twoFactorEnabled,
                phishingResistant,
                role,
                afterUserId,
              });
      let rows = 0;
      for (const query of queries) {
        const page = await database.run((reader) => memberships.page(reader, query));
        expect(page).toEqual(await pageByTypeorm(manager, query));
        rows += page.length;
      }
      expect(rows).toBeGreaterThan(queries.length / 2);
      // As read before the pages were held to TypeORM's.
      expect(
        await database.run((reader) =>
          memberships.page(reader, { organizationId: 'page-org', limit: 10, twoFactorEnabled: true }),
        ),
      ).toEqual([
        { userId: 'page-member-a', role: 'OWNER', twoFactorEnabled: true },
        { userId: 'page-member-b', role: 'MEMBER', twoFactorEnabled: true },
        { userId: 'page-member-d', role: 'MEMBER', twoFactorEnabled: true },
        { userId: 'page-member-f', role: 'OWNER', twoFactorEnabled: true },
      ]);
    },
  },
  {
    name: 'a page of members by key sets is the page TypeORM finds (one range scan per key set on MySQL, merged)',
    holds: ['MembershipRepository.pageByKeySets'],
    async run({ database, manager }) {
      const memberships = new MembershipRepository(database);
      const kinds: [OrganizationRoleValue, boolean, number][] = [
        ['OWNER', true, 3],
        ['MEMBER', false, 0],
        ['MEMBER', true, 5],
        ['OWNER', false, 3],
        ['MEMBER', true, 3],
        ['OWNER', true, 5],
        ['MEMBER', true, 9],
      ];
      await putOrganization(
        manager,
        organization('ks-page-org'),
        'ks-page-org',
        kinds.map(([role, tfa, keySetId], i) =>
          membership('ks-page-org', `ks-member-${String.fromCharCode(103 - i)}`, role, tfa, keySetId !== 0, keySetId),
        ),
      );
      let rows = 0;
      let queries = 0;
      for (const keySetIds of [[], [3], [0, 5], [3, 5, 9], [7]])
        for (const twoFactorEnabled of [undefined, true, false])
          for (const role of [undefined, 'OWNER', 'MEMBER'] as const)
            for (const afterUserId of [undefined, 'ks-member-c']) {
              const query: MemberPageQuery = {
                organizationId: 'ks-page-org',
                limit: 2,
                keySetIds,
                twoFactorEnabled,
                role,
                afterUserId,
              };
              const page = await database.run((reader) => memberships.page(reader, query));
              expect(page).toEqual(await pageByTypeorm(manager, query));
              rows += page.length;
              queries += 1;
            }
      expect(rows).toBeGreaterThan(queries / 3);
      expect(
        await database.run((reader) =>
          memberships.page(reader, { organizationId: 'ks-page-org', limit: 10, keySetIds: [3, 5] }),
        ),
      ).toEqual([
        { userId: 'ks-member-b', role: 'OWNER', twoFactorEnabled: true },
        { userId: 'ks-member-c', role: 'MEMBER', twoFactorEnabled: true },
        { userId: 'ks-member-d', role: 'OWNER', twoFactorEnabled: false },
        { userId: 'ks-member-e', role: 'MEMBER', twoFactorEnabled: true },
        { userId: 'ks-member-g', role: 'OWNER', twoFactorEnabled: true },
      ]);
    },
  },
  {
    name: "a requirement's exempt count and affected page are what TypeORM finds, by two-factor and by key sets not accepted",
    holds: ['ExemptionRepository.countExemptWithout', 'ExemptionRepository.affectedPage'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      const org = 'affected-org';
      const now = new Date('2026-12-01T12:00:00.000Z');
      const kinds: [boolean, number][] = [
        [true, 3],
        [false, 0],
        [true, 5],
        [false, 3],
        [true, 0],
        [false, 5],
        [true, 9],
        [false, 0],
      ];
      const members = kinds.map(([tfa, keySetId], i) =>
        membership(
          org,
          `affected-${String.fromCharCode(104 - i)}`,
          i === 0 ? 'OWNER' : 'MEMBER',
          tfa,
          keySetId !== 0,
          keySetId,
        ),
      );
      await putOrganization(manager, organization(org), org, members);
      await manager.delete(TwoFactorExemptionRecord, { organizationId: org });
      // In force, run out, and in force: of members with and without what a requirement accepts.
      await manager.insert(
        TwoFactorExemptionRecord,
        (
          [
            ['affected-b', '2026-12-10T00:00:00.000Z'],
            ['affected-c', '2026-11-10T00:00:00.000Z'],
            ['affected-e', '2026-12-20T00:00:00.000Z'],
            ['affected-g', '2026-12-20T00:00:00.000Z'],
          ] as const
        ).map(([userId, endsAt]) =>
          filled(TwoFactorExemptionRecord, {
            organizationId: org,
            userId,
            reason: 'On leave ✓',
            grantedBy: 'owner',
            grantedAt: new Date('2026-11-01T10:00:00.000Z'),
            endsAt: new Date(endsAt),
          }),
        ),
      );
      const rowsOf = async () => ({
        members: await manager.find(MembershipRecord, { where: { organizationId: org }, order: { userId: 'ASC' } }),
        inForce: new Set(
          (await manager.find(TwoFactorExemptionRecord, { where: { organizationId: org, endsAt: MoreThan(now) } })).map(
            (row) => row.userId,
          ),
        ),
      });
      const lacks = (without: readonly number[] | null) => (member: MembershipRecord) =>
        without === null ? !member.twoFactorEnabled : without.includes(member.keySetId);
      let rows = 0;
      for (const without of [null, [0], [0, 5], [0, 3, 9], [7]]) {
        const { members: all, inForce } = await rowsOf();
        const count = all.filter(lacks(without)).filter((member) => inForce.has(member.userId)).length;
        expect(await database.run((reader) => exemptions.countExemptWithout(reader, org, now, without))).toBe(count);
        for (const afterUserId of [undefined, 'affected-c'])
          for (const limit of [2, 10]) {
            const want = all
              .filter(lacks(without))
              .filter((member) => !inForce.has(member.userId))
              .filter((member) => afterUserId === undefined || member.userId > afterUserId)
              .slice(0, limit)
              .map(({ userId, role, twoFactorEnabled }) => ({ userId, role, twoFactorEnabled }));
            const page = await database.run((reader) =>
              exemptions.affectedPage(reader, org, now, without, afterUserId, limit),
            );
            expect(page).toEqual(want);
            rows += page.length;
          }
      }
      expect(rows).toBeGreaterThan(10);
    },
  },
  {
    name: "a member's access facts are what TypeORM reads of the membership, its organization and the member's exemption",
    holds: ['MembershipRepository.accessFacts'],
    async run({ database, manager }) {
      const memberships = new MembershipRepository(database);
      const users = ['access-member', 'access-owner', 'access-ended', 'access-stranger'];
      await manager.delete(TwoFactorExemptionRecord, { userId: In(users) });
      await manager.delete(KeySetRecord, { digest: 'access-digest' });
      await manager.insert(KeySetRecord, {
        id: 4242,
        digest: 'access-digest',
        kinds: 'cb69481e-8ff7-4039-93ec-0a2729a154a8:a:d',
      });
      await putOrganization(manager, organization('access-org'), 'access-org', [
        membership('access-org', 'access-member', 'MEMBER', true, true, 4242),
        membership('access-org', 'access-owner', 'OWNER', false, false),
        membership('access-org', 'access-ended', 'MEMBER', false, false),
      ]);
      await putOrganization(manager, organization('access-other-org'), 'access-other-org', [
        membership('access-other-org', 'access-owner', 'MEMBER', false, false),
      ]);
      await manager.insert(TwoFactorExemptionRecord, [
        exemption('access-org', 'access-member'),
        // Ended rows are read too (the reader compares with now); another organization's and a stranger's are not.
        exemption('access-org', 'access-ended', { endsAt: new Date('2026-11-01T00:00:00.000Z') }),
        exemption('access-other-org', 'access-owner'),
        exemption('access-org', 'access-stranger'),
      ]);
      const byTypeorm = async (userId: string): Promise<AccessFacts | null> => {
        const member = await manager.findOneBy(MembershipRecord, { organizationId: 'access-org', userId });
        const org = await manager.findOneByOrFail(OrganizationRecord, { id: 'access-org' });
        const exempt = await manager.findOneBy(TwoFactorExemptionRecord, { organizationId: 'access-org', userId });
        if (!member) return null;
        const keySet = await manager.findOneBy(KeySetRecord, { id: member.keySetId });
        return {
          twoFactorEnabled: member.twoFactorEnabled,
          // Judged by OrganizationService.access from the key set, the policy and the blob: false as read.
          phishingResistant: false,
          keySetId: member.keySetId,
          keySetKinds: keySet?.kinds ?? null,
          allowedAaguids: org.allowedAaguids,
          requireDeviceBound: org.requireDeviceBound,
          requiresTwoFactor: org.requiresTwoFactor,
          requiresPhishingResistant: org.requiresPhishingResistant,
          gracePeriodEndsAt: org.gracePeriodEndsAt,
          acceptsIdentityProviderMfa: org.acceptsIdentityProviderMfa,
          exemptUntil: exempt?.endsAt ?? null,
        };
      };
      for (const userId of users) {
        const plain = await database.run((reader) => memberships.accessFacts(reader, 'access-org', userId));
        expect(plain).toEqual(await byTypeorm(userId));
      }
      expect(await byTypeorm('access-member')).toMatchObject({ twoFactorEnabled: true, requiresTwoFactor: true });
      expect((await byTypeorm('access-member'))?.exemptUntil).toBeInstanceOf(Date);
      expect((await byTypeorm('access-owner'))?.exemptUntil).toBeNull();
    },
  },
  {
    name: "the ends of a user's exemptions are the rows TypeORM finds of that user, ended or not, in every organization",
    holds: ['MembershipRepository.exemptionEndsOfUser'],
    async run({ database, manager }) {
      const memberships = new MembershipRepository(database);
      const users = ['ends-user', 'ends-other-user', 'ends-nobody'];
      await manager.delete(TwoFactorExemptionRecord, { userId: In(users) });
      await manager.insert(TwoFactorExemptionRecord, [
        exemption('ends-org-a', 'ends-user'),
        exemption('ends-org-b', 'ends-user', { endsAt: new Date('2026-11-01T00:00:00.001Z') }),
        exemption('ends-org-a', 'ends-other-user', { endsAt: new Date('2027-02-01T00:00:00.000Z') }),
      ]);
      for (const userId of users) {
        const rows = await manager.find(TwoFactorExemptionRecord, { where: { userId } });
        const typeorm = new Map(rows.map((row) => [row.organizationId, row.endsAt]));
        const plain = await database.run((reader) => memberships.exemptionEndsOfUser(reader, userId));
        expect(new Map([...plain].sort())).toEqual(new Map([...typeorm].sort()));
      }
      expect((await database.run((reader) => memberships.exemptionEndsOfUser(reader, 'ends-user'))).size).toBe(2);
    },
  },
  {
    name: "a deleted organization's memberships are purged in batches as TypeORM's delete removes them, and none of one that exists again",
    holds: ['OrganizationPurge.deleteBatch'],
    async run(db) {
      const members = (organizationId: string) =>
        ['a', 'b', 'c', 'd', 'e'].map((name) =>
          membership(organizationId, `${organizationId}-${name}`, 'MEMBER', true, false),
        );
      const ids = ['purged-org', 'purged-again-org', 'purged-other-org'];
      const rows = async (manager: EntityManager) => ({
        memberships: await manager.find(MembershipRecord, {
          where: { organizationId: In(ids) },
          order: { organizationId: 'ASC', userId: 'ASC' },
        }),
        deletions: await manager.find(OrganizationDeletionRecord, {
          where: { organizationId: In(ids) },
          order: { organizationId: 'ASC' },
        }),
      });
      const { plain, typeorm } = await writesAlike(db, {
        seed: async (manager) => {
          // Deleted; deleted and made again under the same id; another organization.
          await putOrganization(manager, null, 'purged-org', members('purged-org'));
          await putOrganization(
            manager,
            organization('purged-again-org'),
            'purged-again-org',
            members('purged-again-org'),
          );
          await putOrganization(
            manager,
            organization('purged-other-org'),
            'purged-other-org',
            members('purged-other-org'),
          );
          await manager.delete(OrganizationDeletionRecord, { organizationId: In(ids) });
          await manager.insert(
            OrganizationDeletionRecord,
            ['purged-org', 'purged-again-org'].map((organizationId) =>
              filled(OrganizationDeletionRecord, { organizationId, deletedAt: new Date('2026-12-01T10:00:00.000Z') }),
            ),
          );
        },
        // Batches of 2 (each a statement in its own round trip), then the deletion record.
        transaction: false,
        plain: async () => {
          const purge = new OrganizationPurge(db.database, 2);
          return [await purge.finish('purged-org'), await purge.finish('purged-again-org')];
        },
        typeorm: async (manager) => {
          const removed: number[] = [];
          for (const organizationId of ['purged-org', 'purged-again-org']) {
            const gone = !(await manager.existsBy(OrganizationRecord, { id: organizationId }));
            const deleted = gone ? await manager.delete(MembershipRecord, { organizationId }) : { affected: 0 };
            await manager.delete(OrganizationDeletionRecord, { organizationId });
            removed.push(deleted.affected ?? 0);
          }
          return removed;
        },
        rows,
      });
      expect(plain).toEqual(typeorm);
      expect(plain).toEqual([5, 0]);
    },
  },
];
