import type { Caller } from '../callers/caller';
import { AppError, badInput } from '../errors';
import { toPage } from '../graphql/connection';
import type { Context } from '../graphql/context';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { LIMITS } from '../limits';
import type { KeyJudge } from '../organizations/key-judge';
import type { MembershipRepository } from '../organizations/membership.repository';
import type { OrganizationService } from '../organizations/organization.service';
import {
  Member,
  type MemberConnection,
  type Membership,
  type OrganizationCompliance,
  type OrganizationView,
} from '../organizations/organization.types';
import { decodeCursor, encodeCursor, pageSize } from '../pagination';
import type { TwoFactorExemptionConnection, TwoFactorRequirementPreview } from './enforcement.types';
import type { ExemptionPosition, ExemptionRepository } from './exemption.repository';
import type { RequirementCounts } from './requirement-counts';

/**
 * What owners (and twofactor:read) read of requiring two-factor: the preview of
 * a requirement, the exemptions in force, and each member's exemption. Every
 * read is exact at a million members: counts from the maintained counters and
 * the exemptions in force, pages as index range scans.
 */
export class EnforcementReads {
  constructor(
    private readonly database: Database,
    private readonly organizationService: OrganizationService,
    private readonly memberships: MembershipRepository,
    private readonly exemptions: ExemptionRepository,
    private readonly counts: RequirementCounts,
    private readonly clock: Clock,
    private readonly judge: KeyJudge,
  ) {}

  /** What requiring (any factor, or phishing-resistant) would do now; changes nothing. */
  async preview(
    caller: Caller,
    organizationId: string,
    phishingResistant: boolean,
  ): Promise<TwoFactorRequirementPreview> {
    const organization = await this.organizationService.view(caller, organizationId);
    if (!organization || organization.viewer === 'member') {
      throw new AppError(
        'FORBIDDEN',
        "Only the organization's owners and twofactor:read callers preview its requirement.",
      );
    }
    const now = this.clock.now();
    const [count, ownersBlocking] = await this.database.run(async (manager) =>
      Promise.all([
        this.counts.of(manager, organization.record, now, phishingResistant),
        phishingResistant
          ? this.memberships.ownersWithKeySets(
              manager,
              organizationId,
              await this.judge.setIds(manager, organization.record, false),
              LIMITS.maxIdsPerQuery,
            )
          : this.memberships.ownersWithoutTwoFactor(manager, organizationId, LIMITS.maxIdsPerQuery),
      ]),
    );
    const record = organization.record;
    return {
      phishingResistant,
      totalMembers:
        record.ownersWithTwoFactor +
        record.ownersWithoutTwoFactor +
        record.membersWithTwoFactor +
        record.membersWithoutTwoFactor,
      ownersBlocking,
      ownersBlockingCount: count.ownersWithout,
      membersAffected: count.affected,
      membersExempt: count.exempt,
      organization,
      at: now,
    };
  }

  /** The preview's affected members, in user-id order, as Organization.members pages. */
  async affectedMembers(
    preview: TwoFactorRequirementPreview,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<MemberConnection> {
    const limit = pageSize(first);
    const { organization } = preview;
    const list = `affected:${organization.id}:${preview.phishingResistant ? 'pr' : 'any'}`;
    const afterUserId = decodeCursor(after, list);
    const rows = await this.database.run(async (manager) =>
      this.exemptions.affectedPage(
        manager,
        organization.id,
        preview.at,
        preview.phishingResistant ? await this.judge.setIds(manager, organization.record, false) : null,
        afterUserId,
        limit + 1,
      ),
    );
    const page = toPage(rows, limit, (row) => ({
      cursor: encodeCursor(list, row.userId),
      node: Member.of(organization, row),
    }));
    return { ...page, totalCount: preview.membersAffected };
  }

  /** Organization.twoFactorExemptions: the exemptions in force, soonest end first. */
  async exemptionsOf(
    organization: OrganizationView,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<TwoFactorExemptionConnection> {
    if (organization.viewer === 'member') {
      throw new AppError('FORBIDDEN', "Only the organization's owners and twofactor:read callers see this.");
    }
    const limit = pageSize(first);
    const list = `exemptions:${organization.id}`;
    const position = decodeCursor(after, list);
    const from = position === undefined ? undefined : positionOf(position);
    const now = this.clock.now();
    const [rows, totalCount] = await this.database.run((manager) =>
      Promise.all([
        this.exemptions.page(manager, organization.id, now, from, limit + 1),
        this.exemptions.countInForce(manager, organization.id, now),
      ]),
    );
    const page = toPage(rows, limit, (row) => ({
      cursor: encodeCursor(list, JSON.stringify([row.endsAt.toISOString(), row.userId])),
      node: {
        userId: row.userId,
        reason: row.reason,
        grantedBy: row.grantedBy,
        grantedAt: row.grantedAt,
        endsAt: row.endsAt,
      },
    }));
    return { ...page, totalCount };
  }

  /** compliance.membersExempt: as the preview of the organization's own requirement counts them. */
  membersExempt(compliance: OrganizationCompliance): Promise<number> {
    const now = this.clock.now();
    return this.database.run((manager) =>
      this.exemptions.countExemptWithout(
        manager,
        compliance.organizationId,
        now,
        compliance.phishingResistant ? compliance.rejectedKeySetIds : null,
      ),
    );
  }

  /** Member.exemptUntil: the members of one page read together. */
  memberExemptUntil(context: Pick<Context, 'batch'>, member: Member): Promise<Date | null> {
    return context
      .batch<Date | null>(`exemptUntil:${member.organizationId}`, async (userIds) => {
        const now = this.clock.now();
        const ends = await this.database.run((manager) =>
          this.exemptions.endsOf(manager, member.organizationId, userIds, now),
        );
        return userIds.map((userId) => ends.get(userId) ?? null);
      })
      .load(member.user.id);
  }

  /** Membership.exemptUntil: the user's own exemption in each of its organizations, read once per request. */
  async membershipExemptUntil(context: Pick<Context, 'batch'>, membership: Membership): Promise<Date | null> {
    const ends = await context
      .batch<Map<string, Date>>('exemptionsOfUser', async (userIds) => {
        const now = this.clock.now();
        return Promise.all(
          userIds.map(async (userId) => {
            const rows = await this.database.run((manager) => this.exemptions.ofUser(manager, userId));
            return new Map(rows.filter((row) => row.endsAt > now).map((row) => [row.organizationId, row.endsAt]));
          }),
        );
      })
      .load(membership.userId);
    return ends.get(membership.organization.id) ?? null;
  }
}

/** An exemptions cursor's position: [endsAt ISO, userId]. */
function positionOf(text: string): ExemptionPosition {
  try {
    const [endsAt, userId] = JSON.parse(text) as unknown[];
    const date = new Date(String(endsAt));
    if (typeof userId === 'string' && typeof endsAt === 'string' && !Number.isNaN(date.getTime())) {
      return { endsAt: date, userId };
    }
  } catch {
    // falls through to the refusal below
  }
  throw badInput('after is not a cursor of this list.', 'after');
}
