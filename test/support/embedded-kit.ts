import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditEventRepository } from '../../src/audit/audit-event.repository';
import { AuditLog } from '../../src/audit/audit-log';
import { ManualClock } from '../../src/infra/clock';
import { StoreKeyHash } from '../../src/infra/crypto/store-key-hash';
import { createDataSource } from '../../src/infra/db/data-source';
import { Database } from '../../src/infra/db/database';
import { migrate } from '../../src/infra/db/migrate';
import { MemoryStore } from '../../src/infra/store/memory-store';
import { DATABASE_SCHEMA } from '../../src/modules';
import { MembershipRepository } from '../../src/organizations/membership.repository';
import { OrganizationRepository } from '../../src/organizations/organization.repository';
import { UserRepository } from '../../src/users/user.repository';

/**
 * The building blocks of the service on the embedded SQLite and the in-process
 * store, for unit tests of one service at a time (the fast tier: no MariaDB, no
 * Redis, no HTTP).
 */
export async function embeddedKit() {
  const dir = mkdtempSync(join(tmpdir(), 'tf-unit-'));
  const logger = pino({ level: 'silent' });
  const dataSource = createDataSource({ kind: 'sqlite', file: join(dir, 'unit.sqlite') }, DATABASE_SCHEMA);
  await dataSource.initialize();
  await migrate(dataSource, logger);
  const database = new Database(dataSource);
  const auditEvents = new AuditEventRepository(database);
  const users = new UserRepository(database);
  return {
    database,
    store: new MemoryStore(),
    storeKeys: new StoreKeyHash(Buffer.alloc(32, 3)),
    clock: new ManualClock(new Date('2026-12-02T12:00:00Z')),
    logger,
    users,
    organizations: new OrganizationRepository(database),
    memberships: new MembershipRepository(database),
    auditEvents,
    audit: new AuditLog(auditEvents),
    /** The audit actions recorded for a user, oldest first. */
    async actionsOf(userId: string): Promise<string[]> {
      const rows: { action: string }[] = await database.run((manager) =>
        manager.query('SELECT action FROM audit_events WHERE user_id = ? ORDER BY id', [userId]),
      );
      return rows.map((row) => row.action);
    },
    async close() {
      await dataSource.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type EmbeddedKit = Awaited<ReturnType<typeof embeddedKit>>;
