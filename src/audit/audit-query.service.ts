import { type Caller, hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import { toPage } from '../graphql/connection';
import type { Database } from '../infra/db/database';
import { decodeCursor, encodeCursor, pageSize } from '../pagination';
import type { AuditEventRepository } from './audit-event.repository';
import { AuditEvent, type AuditEventConnection } from './audit.types';

/** What the audit log needs of organizations: whether the user owns one, and since which event it exists. */
export interface OrganizationOwners {
  /** Null when the user is no owner of it (or it does not exist); else the first event id of this organization. */
  ownedBy(userId: string, organizationId: string): Promise<{ auditEventsFrom: string | null } | null>;
}

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
    private readonly owners: OrganizationOwners,
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
    const owned = organizationId === undefined ? null : await this.owners.ownedBy(caller.subject, organizationId);
    if (!owned) {
      throw new AppError(
        'FORBIDDEN',
        'A user sees the events about itself, an owner those of its organization, twofactor:read all.',
      );
    }
    return owned.auditEventsFrom ?? undefined;
  }
}
