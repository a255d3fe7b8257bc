import { toPage } from '../graphql/connection';
import { type Caller, hasScope } from '../callers/caller';
import { AppError, badInput } from '../errors';
import type { Database } from '../infra/db/database';
import type { AuditEventRepository } from '../infra/db/repositories/audit-event.repository';
import type { MembershipRepository } from '../infra/db/repositories/membership.repository';
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
 * a user those about itself, an owner those of its organization, twofactor:read all.
 */
export class AuditQueryService {
  constructor(
    private readonly database: Database,
    private readonly events: AuditEventRepository,
    private readonly memberships: MembershipRepository,
  ) {}

  async list(caller: Caller, filter: AuditEventFilter, first: number | null | undefined, after: string | null | undefined): Promise<AuditEventConnection> {
    const reader = hasScope(caller, 'twofactor:read');
    let userId = filter.userId ?? undefined;
    const organizationId = filter.organizationId ?? undefined;
    // Without a filter and without the scope: the caller's own events.
    if (!reader && userId === undefined && organizationId === undefined) userId = caller.subject;

    const limit = pageSize(first);
    const list = `audit:${JSON.stringify([userId ?? null, organizationId ?? null])}`;
    const beforeId = decodeCursor(after, list);
    if (beforeId !== undefined && !EVENT_ID.test(beforeId)) throw badInput('after is not a cursor of this list and filter.', 'after');

    if (!reader && userId !== caller.subject && !(await this.owns(caller, organizationId))) {
      throw new AppError('FORBIDDEN', 'A user sees the events about itself, an owner those of its organization, twofactor:read all.');
    }

    const rows = await this.database.run((manager) => this.events.page(manager, { userId, organizationId, beforeId, limit: limit + 1 }));
    return toPage(rows, limit, (row) => {
      const node = AuditEvent.of(row);
      return { cursor: encodeCursor(list, node.id), node };
    });
  }

  private async owns(caller: Caller, organizationId: string | undefined): Promise<boolean> {
    if (organizationId === undefined) return false;
    const membership = await this.database.run((manager) => this.memberships.find(manager, organizationId, caller.subject));
    return membership?.role === 'OWNER';
  }
}
