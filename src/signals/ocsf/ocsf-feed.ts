import { AuditEventRecord } from '../../audit/audit-event.entity';
import type { FactorActions } from '../../audit/factor-actions';
import { badInput } from '../../errors';
import type { Database } from '../../infra/db/database';
import { LIMITS } from '../../limits';
import { decodeCursor, encodeCursor } from '../../pagination';
import { type OcsfRecord, toOcsf } from './ocsf-mapping';

/** The cursors' list name: a cursor of another list (GraphQL's auditEvents) is refused. */
const FEED = 'ocsf';
/** An event id as a cursor holds it (0: before the first). */
const EVENT_ID = /^(0|[1-9][0-9]{0,19})$/;

export interface OcsfPage {
  records: OcsfRecord[];
  /** Where the next page starts: after this page's last event, or where this one started when it is empty. */
  next: string;
}

/**
 * Every audit event as OCSF, oldest first, for SIEMs that pull: a keyset on the
 * event id. The cursor after the last page stays valid, so a SIEM polls it for
 * what happens next. Reads only the audit log: whoever may call this sees all.
 */
export class OcsfFeed {
  constructor(
    private readonly database: Database,
    private readonly factors: FactorActions,
  ) {}

  /** BAD_USER_INPUT for a limit out of 1..LIMITS.ocsfMaxPageSize or a cursor not of this feed. */
  async page(after: string | undefined, limit: number): Promise<OcsfPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > LIMITS.ocsfMaxPageSize) {
      throw badInput(`limit must be from 1 to ${LIMITS.ocsfMaxPageSize}.`, 'limit');
    }
    const afterId = after === undefined ? '0' : decodeCursor(after, FEED)!;
    if (!EVENT_ID.test(afterId)) throw badInput('after is not a cursor of this list and filter.', 'after');
    const rows = await this.database.run((manager) =>
      manager
        .createQueryBuilder(AuditEventRecord, 'event')
        .where('event.id > :afterId', { afterId })
        .orderBy('event.id', 'ASC')
        .limit(limit)
        .getMany(),
    );
    const last = rows.at(-1);
    return {
      records: rows.map((row) => toOcsf({ ...row, id: String(row.id) }, this.factors)),
      next: encodeCursor(FEED, last === undefined ? afterId : String(last.id)),
    };
  }
}
