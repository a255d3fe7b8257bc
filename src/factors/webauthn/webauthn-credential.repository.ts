import type { EntityManager } from 'typeorm';
import type { Database, Statement } from '../../infra/db/database';
import { rawNumber, sqlTime } from '../../infra/db/raw-values';
import { Table } from '../../infra/db/table';
import type { StatusPart } from '../../users/status-part';
import { TwoFactorMethod } from '../../users/two-factor-method';
import { WebAuthnCredentialRecord } from './webauthn-credential.entity';

const credentials = new Table(WebAuthnCredentialRecord);

/** Security keys in every status read: a method once the user has one (they list themselves in their own query). */
export const WEBAUTHN_STATUS: StatusPart = {
  method: TwoFactorMethod.WEBAUTHN,
  select: `(SELECT COUNT(*) FROM ${credentials.name} wc WHERE wc.${credentials.column('userId')} = u.id) AS webauthn_credentials`,
  read: (row) => ({ has: rawNumber(row.webauthn_credentials) > 0 }),
};

/** A user's security keys and passkeys. */
export class WebAuthnCredentialRepository {
  constructor(private readonly database: Database) {}

  /** The answer path's read of the credential an assertion names (ADR 0013): no row when it is not the user's. */
  credentialRead(userId: string, id: string): Statement {
    return {
      sql: `SELECT ${credentials.columns(...credentials.properties)} FROM ${credentials.name}
             WHERE ${credentials.column('userId')} = ? AND ${credentials.column('id')} = ?`,
      parameters: [userId, id],
    };
  }

  credentialOf(rows: Record<string, unknown>[]): WebAuthnCredentialRecord | null {
    return rows.length === 0
      ? null
      : Object.assign(new WebAuthnCredentialRecord(), credentials.row(rows[0], ...credentials.properties));
  }

  /** Oldest first. */
  list(manager: EntityManager, userId: string): Promise<WebAuthnCredentialRecord[]> {
    return manager.find(WebAuthnCredentialRecord, { where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  listMany(manager: EntityManager, userIds: readonly string[]): Promise<WebAuthnCredentialRecord[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return manager
      .createQueryBuilder(WebAuthnCredentialRecord, 'credential')
      .where('credential.userId IN (:...userIds)', { userIds })
      .orderBy('credential.createdAt', 'ASC')
      .addOrderBy('credential.id', 'ASC')
      .getMany();
  }

  find(manager: EntityManager, userId: string, id: string): Promise<WebAuthnCredentialRecord | null> {
    return manager.findOneBy(WebAuthnCredentialRecord, { userId, id });
  }

  /** Whether any user has this credential id. */
  async exists(manager: EntityManager, id: string): Promise<boolean> {
    return (await manager.countBy(WebAuthnCredentialRecord, { id })) > 0;
  }

  count(manager: EntityManager, userId: string): Promise<number> {
    return manager.countBy(WebAuthnCredentialRecord, { userId });
  }

  async insert(manager: EntityManager, credential: WebAuthnCredentialRecord): Promise<void> {
    await manager.insert(WebAuthnCredentialRecord, credential);
  }

  /** Records a use with the counter the key reported (queued with the answer's COMMIT, under the user's row lock). */
  async recordUse(manager: EntityManager, id: string, signCount: number, now: Date): Promise<void> {
    await this.database.queue(manager, {
      sql: `UPDATE ${credentials.name} SET ${credentials.assignments('signCount', 'lastUsedAt')} WHERE ${credentials.column('id')} = ?`,
      parameters: [signCount, sqlTime(now), id],
    });
  }

  async rename(manager: EntityManager, userId: string, id: string, name: string): Promise<boolean> {
    return ((await manager.update(WebAuthnCredentialRecord, { userId, id }, { name })).affected ?? 0) === 1;
  }

  async delete(manager: EntityManager, userId: string, id: string): Promise<boolean> {
    return ((await manager.delete(WebAuthnCredentialRecord, { userId, id })).affected ?? 0) > 0;
  }

  async deleteAll(manager: EntityManager, userId: string): Promise<boolean> {
    return ((await manager.delete(WebAuthnCredentialRecord, { userId })).affected ?? 0) > 0;
  }
}
