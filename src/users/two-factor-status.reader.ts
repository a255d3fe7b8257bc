import type { EntityManager } from 'typeorm';
import type { Context } from '../graphql/context';
import type { Database, Statement } from '../infra/db/database';
import { LIMITS } from '../limits';
import { TwoFactorMethod } from './two-factor-method';
import type { StatusRow, UserRepository } from './user.repository';
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
    return this.users.statusRowsRead([userId]);
  }

  statusOf(userId: string, rows: Record<string, unknown>[]): TwoFactorStatus {
    return this.fromRows([userId], this.users.statusRowsOf(rows))[0];
  }

  private async readWith(manager: EntityManager, userIds: readonly string[]): Promise<TwoFactorStatus[]> {
    return this.fromRows(userIds, await this.users.statusRows(manager, [...new Set(userIds)]));
  }

  private fromRows(userIds: readonly string[], rows: StatusRow[]): TwoFactorStatus[] {
    const byId = new Map(rows.map((row) => [row.id, row]));
    return userIds.map((id) => {
      const row = byId.get(id);
      if (!row) return { ...disabled(), userId: id };
      const methods = [
        ...(row.totp ? [TwoFactorMethod.TOTP] : []),
        ...(row.sms ? [TwoFactorMethod.SMS] : []),
        ...(row.webAuthnCredentials > 0 ? [TwoFactorMethod.WEBAUTHN] : []),
      ];
      return {
        userId: id,
        enabled: row.twoFactorEnabled,
        locked: row.failedAttemptsInRow >= LIMITS.failuresInRowToLock,
        methods,
        totp: row.totp,
        sms: row.sms
          ? { phoneNumberMasked: row.sms.phoneMasked, createdAt: row.sms.createdAt, lastUsedAt: row.sms.lastUsedAt }
          : null,
        recoveryCodesRemaining: row.twoFactorEnabled ? row.unusedRecoveryCodes : 0,
        enabledAt: row.twoFactorEnabled ? row.enabledAt : null,
      };
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
