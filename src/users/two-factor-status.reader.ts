import type { EntityManager } from 'typeorm';
import type { Context } from '../graphql/context';
import type { Database, Statement } from '../infra/db/database';
import { rawBoolean, rawDate, rawNumber } from '../infra/db/raw-values';
import { LIMITS } from '../limits';
import type { StatusParts } from './status-part';
import type { TwoFactorMethod } from './two-factor-method';
import type { UserRepository } from './user.repository';
import type { TwoFactorStatus } from './user.types';

const disabled = (): TwoFactorStatus => ({
  enabled: false,
  locked: false,
  methods: [],
  totp: null,
  sms: null,
  recoveryCodesRemaining: 0,
  enabledAt: null,
});

/** Reads users' two-factor status in batches: one query however many users. */
export class TwoFactorStatusReader {
  constructor(
    private readonly database: Database,
    private readonly users: UserRepository,
    /** Every factor's part of the read (filled once the modules are built, before any request). */
    private readonly parts: StatusParts,
  ) {}

  read(userIds: readonly string[]): Promise<TwoFactorStatus[]> {
    return this.database.run((manager) => this.readWith(manager, userIds));
  }

  /** Inside a change's transaction: the status as that change leaves it, ready before the commit. */
  async readIn(manager: EntityManager, userId: string): Promise<TwoFactorStatus> {
    return (await this.readWith(manager, [userId]))[0];
  }

  /** One user's status as a statement, to read with others in one round trip (statusOf turns its rows into the status). */
  statement(userId: string): Statement {
    return this.users.statusRead([userId], this.parts.statusParts());
  }

  statusOf(userId: string, rows: Record<string, unknown>[]): TwoFactorStatus {
    return this.fromRows([userId], rows)[0];
  }

  private async readWith(manager: EntityManager, userIds: readonly string[]): Promise<TwoFactorStatus[]> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0) return [];
    const read = this.users.statusRead(ids, this.parts.statusParts());
    return this.fromRows(userIds, await manager.query(read.sql, read.parameters));
  }

  private fromRows(userIds: readonly string[], rows: Record<string, unknown>[]): TwoFactorStatus[] {
    const parts = this.parts.statusParts();
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return userIds.map((id) => {
      const row = byId.get(id);
      if (!row) return { ...disabled(), userId: id };
      const enabled = rawBoolean(row.two_factor_enabled);
      const status: TwoFactorStatus = {
        ...disabled(),
        userId: id,
        enabled,
        locked: rawNumber(row.failed_attempts_in_row) >= LIMITS.failuresInRowToLock,
        enabledAt: enabled ? rawDate(row.enabled_at) : null,
      };
      const methods: TwoFactorMethod[] = [];
      for (const part of parts) {
        const { has, shows } = part.read(row, enabled);
        if (has && part.method) methods.push(part.method);
        Object.assign(status, shows);
      }
      return { ...status, methods };
    });
  }

  /** The one figure a login answer may ask for: one indexed COUNT, not the whole status. */
  recoveryCodesRemaining(userId: string): Promise<number> {
    return this.database.run(async (manager) => {
      const [row]: { n: number | string }[] = await manager.query(
        'SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL',
        [userId],
      );
      return Number(row.n);
    });
  }

  /** Within one request, batched with every other status it asks for (a page of members: one query). */
  inRequest(context: Pick<Context, 'batch'>, userId: string): Promise<TwoFactorStatus> {
    return context.batch('twoFactorStatus', (ids) => this.read(ids)).load(userId);
  }

  async readOne(userId: string): Promise<TwoFactorStatus> {
    return (await this.read([userId]))[0];
  }
}
