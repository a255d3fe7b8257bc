import { type EntityManager, In, LessThanOrEqual, MoreThan } from 'typeorm';
import type { AuditLog } from '../../../../src/audit/audit-log';
import {
  ExemptionRepository,
  type ExemptionPosition,
  type WithoutAccepted,
} from '../../../../src/enforcement/exemption.repository';
import { GracePeriodReminderRecord } from '../../../../src/enforcement/grace-reminder.entity';
import { GraceReminders } from '../../../../src/enforcement/grace-reminders';
import type { RequirementCounts } from '../../../../src/enforcement/requirement-counts';
import { LIMITS } from '../../../../src/limits';
import { MembershipRecord, type OrganizationRoleValue } from '../../../../src/organizations/membership.entity';
import type { MemberPageRow } from '../../../../src/organizations/membership.repository';
import { OrganizationRecord } from '../../../../src/organizations/organization.entity';
import type { OrganizationRepository } from '../../../../src/organizations/organization.repository';
import { TwoFactorExemptionRecord } from '../../../../src/organizations/two-factor-exemption.entity';
import { filled, type PlainSqlCase, writesAlike } from './harness';

const NOW = new Date('2026-12-08T12:00:00.500Z');
const LATER = new Date('2027-01-15T08:30:00.250Z');

/** An exemption with every column set (ending at LATER, in force at NOW); then `changes`. */
export const exemption = (
  organizationId: string,
  userId: string,
  changes: Partial<TwoFactorExemptionRecord> = {},
): TwoFactorExemptionRecord =>
  Object.assign(
    filled(TwoFactorExemptionRecord, {
      organizationId,
      userId,
      reason: 'On leave, back in January ✓',
      grantedBy: 'granting-owner',
      grantedAt: new Date('2026-12-01T09:15:00.123Z'),
      endsAt: LATER,
    }),
    changes,
  );

const member = (
  organizationId: string,
  userId: string,
  role: OrganizationRoleValue,
  twoFactorEnabled: boolean,
  phishingResistant: boolean,
) =>
  Object.assign(new MembershipRecord(), {
    organizationId,
    userId,
    role,
    twoFactorEnabled,
    phishingResistant,
    // A member with a key has key set 1 here, one without none (0): what a requirement accepts is a list of sets.
    keySetId: phishingResistant ? 1 : 0,
    createdAt: new Date('2026-11-04T10:00:00.000Z'),
  });

/**
 * The rows every exemption case starts from: in `ex-org` exemptions in force
 * (two ending at the same time, so the user id orders them), one ending exactly
 * at NOW and one before (ended), members with and without each factor, an
 * exemption without a membership; the same user ids exempt in `ex-other-org`.
 */
const ORGS = ['ex-org', 'ex-other-org'];
async function putExemptions(manager: EntityManager): Promise<void> {
  await manager.delete(TwoFactorExemptionRecord, { organizationId: In(ORGS) });
  await manager.delete(MembershipRecord, { organizationId: In(ORGS) });
  await manager.insert(MembershipRecord, [
    member('ex-org', 'ex-a', 'MEMBER', false, false),
    member('ex-org', 'ex-b', 'MEMBER', true, false),
    member('ex-org', 'ex-c', 'MEMBER', true, true),
    member('ex-org', 'ex-d', 'MEMBER', false, false),
    member('ex-org', 'ex-e', 'MEMBER', false, false),
    member('ex-org', 'ex-f', 'OWNER', false, false),
    member('ex-org', 'ex-g', 'MEMBER', true, false),
    member('ex-org', 'ex-h', 'MEMBER', false, false),
    member('ex-other-org', 'ex-a', 'MEMBER', false, false),
    member('ex-other-org', 'ex-h', 'MEMBER', false, false),
  ]);
  await manager.insert(TwoFactorExemptionRecord, [
    exemption('ex-org', 'ex-a'),
    exemption('ex-org', 'ex-b', { endsAt: new Date('2026-12-20T00:00:00.000Z') }),
    exemption('ex-org', 'ex-c', { endsAt: new Date('2026-12-20T00:00:00.000Z') }),
    exemption('ex-org', 'ex-d', { endsAt: NOW }),
    exemption('ex-org', 'ex-e', { endsAt: new Date('2026-12-01T00:00:00.000Z') }),
    exemption('ex-org', 'ex-g', { endsAt: new Date('2026-12-08T12:00:00.501Z') }),
    exemption('ex-org', 'ex-nobody'),
    exemption('ex-other-org', 'ex-a', { endsAt: new Date('2026-12-09T00:00:00.000Z') }),
    exemption('ex-other-org', 'ex-h', { endsAt: new Date('2026-11-09T00:00:00.000Z') }),
  ]);
}

const exemptionRows = (manager: EntityManager) =>
  manager.find(TwoFactorExemptionRecord, {
    where: { organizationId: In(ORGS) },
    order: { organizationId: 'ASC', userId: 'ASC' },
  });

/** Who lacks an accepted factor: under an any-factor requirement (null), or in a key set the policy does not accept. */
const WITHOUT: WithoutAccepted[] = [null, [0]];
const withoutWhere = (without: WithoutAccepted) =>
  without === null ? { twoFactorEnabled: false } : { keySetId: In([...without]) };

/** The exemptions in force at `now`, soonest end first, as TypeORM finds them. */
const inForceByTypeorm = (manager: EntityManager, organizationId: string, now: Date) =>
  manager.find(TwoFactorExemptionRecord, {
    where: { organizationId, endsAt: MoreThan(now) },
    order: { endsAt: 'ASC', userId: 'ASC' },
  });

/** The members the requirement would hold: no factor it accepts, no exemption in force; in user-id order. */
async function affectedByTypeorm(
  manager: EntityManager,
  organizationId: string,
  now: Date,
  without: WithoutAccepted,
  afterUserId: string | undefined,
  limit: number,
): Promise<MemberPageRow[]> {
  const exempt = new Set((await inForceByTypeorm(manager, organizationId, now)).map((row) => row.userId));
  const members = await manager.find(MembershipRecord, {
    where: {
      organizationId,
      ...withoutWhere(without),
      ...(afterUserId === undefined ? {} : { userId: MoreThan(afterUserId) }),
    },
    order: { userId: 'ASC' },
  });
  return members
    .filter((row) => !exempt.has(row.userId))
    .slice(0, limit)
    .map(({ userId, role, twoFactorEnabled }) => ({ userId, role, twoFactorEnabled }));
}

const NO_AUDIT = {} as AuditLog;
const NO_COUNTS = {} as RequirementCounts;

export const ENFORCEMENT_CASES: PlainSqlCase[] = [
  {
    name: "an exemption read (locked or not) and a user's exemptions are the rows TypeORM finds: that organization's, that user's, ended too",
    holds: ['ExemptionRepository.find', 'ExemptionRepository.ofUser'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      await putExemptions(manager);
      for (const [organizationId, userId] of [
        ['ex-org', 'ex-a'],
        ['ex-other-org', 'ex-a'],
        ['ex-org', 'ex-e'],
        ['ex-org', 'ex-f'],
        ['ex-other-org', 'ex-b'],
      ]) {
        const typeorm = await manager.findOneBy(TwoFactorExemptionRecord, { organizationId, userId });
        expect(await database.run((reader) => exemptions.find(reader, organizationId, userId))).toEqual(typeorm);
        expect(await database.transaction((tx) => exemptions.find(tx, organizationId, userId, true))).toEqual(typeorm);
      }
      expect(await database.run((reader) => exemptions.find(reader, 'ex-org', 'ex-e'))).toMatchObject({
        endsAt: new Date('2026-12-01T00:00:00.000Z'),
      });
      for (const userId of ['ex-a', 'ex-h', 'ex-f']) {
        const byOrganization = (rows: TwoFactorExemptionRecord[]) =>
          [...rows].sort((a, b) => a.organizationId.localeCompare(b.organizationId));
        const plain = await database.run((reader) => exemptions.ofUser(reader, userId));
        expect(byOrganization(plain)).toEqual(
          byOrganization(await manager.find(TwoFactorExemptionRecord, { where: { userId } })),
        );
      }
      expect(await database.run((reader) => exemptions.ofUser(reader, 'ex-a'))).toHaveLength(2);
    },
  },
  {
    name: "an exemption's delete removes the row TypeORM's delete removes (that organization's, that user's), and says whether there was one",
    holds: ['ExemptionRepository.delete'],
    async run(db) {
      const { plain, typeorm } = await writesAlike(db, {
        seed: putExemptions,
        plain: async (tx) => {
          const exemptions = new ExemptionRepository(db.database);
          return [await exemptions.delete(tx, 'ex-org', 'ex-a'), await exemptions.delete(tx, 'ex-other-org', 'ex-b')];
        },
        typeorm: async (tx) =>
          [
            await tx.delete(TwoFactorExemptionRecord, { organizationId: 'ex-org', userId: 'ex-a' }),
            await tx.delete(TwoFactorExemptionRecord, { organizationId: 'ex-other-org', userId: 'ex-b' }),
          ].map((result) => (result.affected ?? 0) > 0),
        rows: exemptionRows,
      });
      expect(plain).toEqual(typeorm);
      expect(plain).toEqual([true, false]);
    },
  },
  {
    name: "the ends of a page's exemptions in force are TypeORM's: that organization's, those users', ending after now",
    holds: ['ExemptionRepository.endsOf'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      await putExemptions(manager);
      const users = ['ex-a', 'ex-b', 'ex-d', 'ex-e', 'ex-f', 'ex-g', 'ex-h'];
      for (const organizationId of ORGS) {
        const rows = await manager.find(TwoFactorExemptionRecord, {
          where: { organizationId, userId: In(users), endsAt: MoreThan(NOW) },
        });
        const plain = await database.run((reader) => exemptions.endsOf(reader, organizationId, users, NOW));
        expect(new Map([...plain].sort())).toEqual(new Map(rows.map((row) => [row.userId, row.endsAt]).sort()));
      }
      const inForce = await database.run((reader) => exemptions.endsOf(reader, 'ex-org', users, NOW));
      expect([...inForce.keys()].sort()).toEqual(['ex-a', 'ex-b', 'ex-g']);
      expect(await database.run((reader) => exemptions.endsOf(reader, 'ex-org', [], NOW))).toEqual(new Map());
    },
  },
  {
    name: "pages of an organization's exemptions in force, from every position, and their count are what TypeORM finds",
    holds: ['ExemptionRepository.page', 'ExemptionRepository.countInForce'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      await putExemptions(manager);
      for (const organizationId of ORGS) {
        const all = await inForceByTypeorm(manager, organizationId, NOW);
        const positions: (ExemptionPosition | undefined)[] = [
          undefined,
          ...all.map(({ endsAt, userId }) => ({ endsAt, userId })),
          { endsAt: new Date('2026-12-20T00:00:00.000Z'), userId: 'ex-bb' },
          { endsAt: new Date('2026-11-01T00:00:00.000Z'), userId: 'ex-z' },
        ];
        for (const after of positions) {
          const following = after
            ? all.filter(
                (row) =>
                  row.endsAt > after.endsAt ||
                  (row.endsAt.getTime() === after.endsAt.getTime() && row.userId > after.userId),
              )
            : all;
          const plain = await database.run((reader) => exemptions.page(reader, organizationId, NOW, after, 2));
          expect(plain).toEqual(following.slice(0, 2));
        }
        expect(await database.run((reader) => exemptions.countInForce(reader, organizationId, NOW))).toBe(
          await manager.countBy(TwoFactorExemptionRecord, { organizationId, endsAt: MoreThan(NOW) }),
        );
      }
      expect(userIds(await database.run((reader) => exemptions.page(reader, 'ex-org', NOW, undefined, 10)))).toEqual([
        'ex-g',
        'ex-b',
        'ex-c',
        'ex-a',
        'ex-nobody',
      ]);
      expect(await database.run((reader) => exemptions.countInForce(reader, 'ex-org', NOW))).toBe(5);
    },
  },
  {
    name: 'the exempt members without an accepted factor are the ones TypeORM counts, for either requirement',
    holds: ['ExemptionRepository.countExemptWithout'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      await putExemptions(manager);
      const counted: number[] = [];
      for (const organizationId of ORGS)
        for (const without of WITHOUT) {
          const inForce = await inForceByTypeorm(manager, organizationId, NOW);
          const typeorm = await manager.countBy(MembershipRecord, {
            organizationId,
            userId: In(inForce.map((row) => row.userId)),
            ...withoutWhere(without),
          });
          const plain = await database.run((reader) =>
            exemptions.countExemptWithout(reader, organizationId, NOW, without),
          );
          expect(plain).toBe(typeorm);
          counted.push(plain);
        }
      expect(counted).toEqual([1, 3, 1, 1]);
    },
  },
  {
    name: 'pages of the members a requirement would hold (no accepted factor, no exemption in force) are the ones TypeORM finds',
    holds: ['ExemptionRepository.affectedPage'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      await putExemptions(manager);
      const seen = new Set<string>();
      for (const organizationId of ORGS)
        for (const without of WITHOUT)
          for (const after of [undefined, 'ex-a', 'ex-c', 'ex-e', 'ex-h'])
            for (const limit of [1, 2, 10]) {
              const plain = await database.run((reader) =>
                exemptions.affectedPage(reader, organizationId, NOW, without, after, limit),
              );
              expect(plain).toEqual(await affectedByTypeorm(manager, organizationId, NOW, without, after, limit));
              for (const row of plain) seen.add(`${organizationId}/${row.userId}`);
            }
      expect([...seen].sort()).toEqual([
        'ex-org/ex-d',
        'ex-org/ex-e',
        'ex-org/ex-f',
        'ex-org/ex-h',
        'ex-other-org/ex-h',
      ]);
    },
  },
  {
    name: 'the run-out exemptions claimed are the ones TypeORM finds ended by now, soonest first, in every organization',
    holds: ['ExemptionRepository.claimRunOut'],
    async run({ database, manager }) {
      const exemptions = new ExemptionRepository(database);
      await putExemptions(manager);
      // Other cases' exemptions are in the table too: compare all of them, as the job reads them.
      for (const limit of [1, 2, 3, 100]) {
        const typeorm = await manager.find(TwoFactorExemptionRecord, {
          where: { endsAt: LessThanOrEqual(NOW) },
          order: { endsAt: 'ASC', organizationId: 'ASC', userId: 'ASC' },
          take: limit,
        });
        expect(await database.transaction((tx) => exemptions.claimRunOut(tx, NOW, limit))).toEqual(typeorm);
      }
      const claimed = await database.transaction((tx) => exemptions.claimRunOut(tx, NOW, 100));
      expect(claimed.filter((row) => ORGS.includes(row.organizationId)).map((row) => row.userId)).toEqual([
        'ex-h',
        'ex-e',
        'ex-d',
      ]);
    },
  },
  {
    name: "the grace reminders' job visits the organizations TypeORM finds due by now (none without a due time)",
    holds: ['GraceReminders.run'],
    async run({ database, manager }) {
      const ids = ['grace-due-before', 'grace-due-now', 'grace-due-later', 'grace-due-none'];
      await manager.delete(OrganizationRecord, { id: In(ids) });
      const dues = [new Date('2026-12-01T00:00:00.000Z'), NOW, new Date('2026-12-08T12:00:00.501Z'), null];
      await manager.insert(
        OrganizationRecord,
        ids.map((id, i) =>
          Object.assign(new OrganizationRecord(), {
            id,
            name: id,
            auditEventsFrom: '1',
            gracePeriodStartedAt: new Date('2026-11-01T00:00:00.000Z'),
            gracePeriodEndsAt: new Date('2026-12-15T00:00:00.000Z'),
            graceReminderDueAt: dues[i],
            createdAt: NOW,
            updatedAt: NOW,
          }),
        ),
      );
      // Its per-organization work is not SQL of its own: record which organizations it goes on to.
      const visited: string[] = [];
      const organizations = {
        lock: (_manager: EntityManager, id: string) => {
          visited.push(id);
          return Promise.resolve(null);
        },
      } as unknown as OrganizationRepository;
      const job = new GraceReminders(database, organizations, NO_COUNTS, NO_AUDIT, { now: () => NOW });
      expect(await job.run()).toBe(0);
      const due = await manager.find(OrganizationRecord, {
        where: { graceReminderDueAt: LessThanOrEqual(NOW) },
        order: { graceReminderDueAt: 'ASC' },
        take: LIMITS.enforcementJobBatch,
      });
      expect(due.length).toBeLessThan(LIMITS.enforcementJobBatch);
      expect([...visited].sort()).toEqual(due.map((row) => row.id).sort());
      expect(visited.filter((id) => ids.includes(id)).sort()).toEqual(['grace-due-before', 'grace-due-now']);
    },
  },
  {
    name: "a grace reminder's claim inserts the row TypeORM's insert-or-ignore inserts, once per organization, grace period and kind",
    holds: ['GraceReminders.claim'],
    async run(db) {
      const ends = new Date('2026-12-15T00:00:00.000Z');
      const sent = (organizationId: string, gracePeriodEndsAt: Date, kind: string) =>
        filled(GracePeriodReminderRecord, { organizationId, gracePeriodEndsAt, kind, sentAt: LATER });
      // Sent before: this kind of this grace period; not the same: another grace period, another kind, another organization.
      const claims: [string, Date, string][] = [
        ['claim-org', ends, 'ending-7d'],
        ['claim-org', ends, 'ending-1d'],
        ['claim-org', new Date('2026-12-16T00:00:00.000Z'), 'ending-7d'],
        ['claim-other-org', ends, 'ending-7d'],
      ];
      const { plain, typeorm } = await writesAlike(db, {
        seed: async (manager) => {
          await manager.delete(GracePeriodReminderRecord, {
            organizationId: In(['claim-org', 'claim-other-org']),
          });
          await manager.insert(GracePeriodReminderRecord, sent('claim-org', ends, 'ending-7d'));
        },
        plain: async (tx) => {
          const job = new GraceReminders(db.database, {} as OrganizationRepository, NO_COUNTS, NO_AUDIT, {
            now: () => NOW,
          });
          const claim = (
            job as unknown as {
              claim(manager: EntityManager, id: string, endsAt: Date, kind: string, now: Date): Promise<boolean>;
            }
          ).claim.bind(job);
          const claimed: boolean[] = [];
          for (const [organizationId, endsAt, kind] of claims)
            claimed.push(await claim(tx, organizationId, endsAt, kind, NOW));
          return claimed;
        },
        typeorm: async (tx) => {
          const claimed: boolean[] = [];
          for (const [organizationId, gracePeriodEndsAt, kind] of claims) {
            const before = await tx.existsBy(GracePeriodReminderRecord, { organizationId, gracePeriodEndsAt, kind });
            await tx
              .createQueryBuilder()
              .insert()
              .into(GracePeriodReminderRecord)
              .values({ organizationId, gracePeriodEndsAt, kind, sentAt: NOW })
              .orIgnore()
              .execute();
            claimed.push(!before);
          }
          return claimed;
        },
        rows: (manager) =>
          manager.find(GracePeriodReminderRecord, {
            where: { organizationId: In(['claim-org', 'claim-other-org']) },
            order: { organizationId: 'ASC', gracePeriodEndsAt: 'ASC', kind: 'ASC' },
          }),
      });
      expect(plain).toEqual(typeorm);
      expect(plain).toEqual([false, true, true, true]);
    },
  },
];

/** The user ids of a page, in order. */
function userIds(rows: TwoFactorExemptionRecord[]): string[] {
  return rows.map((row) => row.userId);
}
