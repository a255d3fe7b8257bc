import { type Caller, hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import { toPage } from '../graphql/connection';
import type { Database } from '../infra/db/database';
import type { AuditEventRepository } from '../infra/db/repositories/audit-event.repository';
import type { MembershipRepository } from '../infra/db/repositories/membership.repository';
import type { OrganizationRepository } from '../infra/db/repositories/organization.repository';
import { decodeCursor, encodeCursor, pageSize } from '../pagination';
import { AuditEvent, type AuditEventConnection } from './audit.types';

export interface AuditEventFilter {
  userId?: string | null;
  organizationId?: string | null;
}

/** An event id as the cursor holds it: the bigint, in decimal. */
const EVENT_ID = /^[1-9][0-9]{0,19}$/;

/**
 * Audit events as the caller may see them, newest first (a keyset on the id):
 * a user those about itself, an owner those of its organization (since it was
 * created: not those of a deleted organization of the same id), twofactor:read
 * all. The client IP is shown to twofactor:read, and to a user on the events
 * that record its own action (its own address, e.g. an owner's policy change in
 * its organization's events); to anyone else it is null.
 */
export class AuditQueryService {
  constructor(
    private readonly database: Database,
    private readonly events: AuditEventRepository,
    private readonly memberships: MembershipRepository,
    private readonly organizations: OrganizationRepository,
  ) {}

  async list(
    caller: Caller,
    filter: AuditEventFilter,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<AuditEventConnection> {
    const reader = hasScope(caller, 'twofactor:read');
    let userId = filter.userId ?? undefined;
    const organizationId = filter.organizationId ?? undefined;
    // Without a filter and without the scope: the caller's own events.
    if (!reader && userId === undefined && organizationId === undefined) userId = caller.subject;

    const limit = pageSize(first);
    const list = `audit:${JSON.stringify([userId ?? null, organizationId ?? null])}`;
    const beforeId = decodeCursor(after, list);
    if (beforeId !== undefined && !EVENT_ID.test(beforeId))
      throw badInput('after is not a cursor of this list and filter.', 'after');

    // Seen as the organization's owner: only its own events, from its creation on.
    const fromId = reader || userId === caller.subject ? undefined : await this.ownedSince(caller, organizationId);

    const rows = await this.database.run((manager) =>
      this.events.page(manager, { userId, organizationId, beforeId, fromId, limit: limit + 1 }),
    );
    return toPage(rows, limit, (row) => {
      const node = AuditEvent.of(row);
      // The address is the actor's: its own, whatever the event is about (an owner's policy change too).
      if (!reader && row.actorId !== caller.subject) node.clientIp = null;
      return { cursor: encodeCursor(list, node.id), node };
    });
  }

  /** The first event id an owner of the organization sees (undefined: all); FORBIDDEN for anyone else. */
  private async ownedSince(caller: Caller, organizationId: string | undefined): Promise<string | undefined> {
    const [membership, organization] =
      organizationId === undefined
        ? [null, null]
        : await this.database.run((manager) =>
            Promise.all([
              this.memberships.find(manager, organizationId, caller.subject),
              this.organizations.find(manager, organizationId),
            ]),
          );
    if (membership?.role !== 'OWNER' || !organization) {
      throw new AppError(
        'FORBIDDEN',
        'A user sees the events about itself, an owner those of its organization, twofactor:read all.',
      );
    }
    return organization.auditEventsFrom === null ? undefined : String(organization.auditEventsFrom);
  }
}
