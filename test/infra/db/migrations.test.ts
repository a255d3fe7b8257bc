import { createDataSource, detectMysqlFlavor } from '../../../src/infra/db/data-source';
import { migrate } from '../../../src/infra/db/migrate';
import { Initial1795812884372 } from '../../../src/infra/db/migrations/1795812884372-Initial';
import { OrganizationAuditEventsFrom1796184652754 } from '../../../src/infra/db/migrations/1796184652754-OrganizationAuditEventsFrom';
import { createLogger } from '../../../src/infra/logger';
import { DATABASE_SCHEMA } from '../../../src/modules';
import { createTestDatabase, withMariaDbDataSource } from '../../support/test-app';

describe('migrations', () => {
  it('leave no difference between the entities and the MariaDB schema', async () => {
    await withMariaDbDataSource(async (dataSource) => {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    });
  });

  it("start a re-created organization's owners' audit events after its namesake's deletion", async () => {
    const database = await createTestDatabase();
    const dataSource = createDataSource({ kind: 'mysql', url: database.url }, DATABASE_SCHEMA, {
      flavor: await detectMysqlFlavor(database.url),
    });
    try {
      await dataSource.initialize();
      const runner = dataSource.createQueryRunner();
      await new Initial1795812884372().up(runner);
      const event = (organizationId: string, action: string) =>
        runner.query("INSERT INTO audit_events (action, organization_id, occurred_at) VALUES (?, ?, '2026-01-01')", [
          action,
          organizationId,
        ]);
      for (const [organizationId, actions] of Object.entries({
        recreated: [
          'ORGANIZATION_UPSERTED',
          'ORGANIZATION_DELETED',
          'ORGANIZATION_UPSERTED',
          'ORGANIZATION_DELETED',
          'ORGANIZATION_UPSERTED',
        ],
        original: ['ORGANIZATION_UPSERTED', 'MEMBERSHIP_SET'],
      })) {
        for (const action of actions) await event(organizationId, action);
        await runner.query(
          "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, '2026-01-01', '2026-01-01')",
          [organizationId, organizationId],
        );
      }
      await new OrganizationAuditEventsFrom1796184652754().up(runner);
      await runner.release();
      const rows = await dataSource.query('SELECT id, audit_events_from FROM organizations ORDER BY id');
      // Events 1 to 5 are the re-created one's; 4 is its last deletion.
      expect(rows).toEqual([
        { id: 'original', audit_events_from: null },
        { id: 'recreated', audit_events_from: '5' },
      ]);
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });

  it('run once when two instances start together', async () => {
    const database = await createTestDatabase();
    const sources = [
      createDataSource({ kind: 'mysql', url: database.url }, DATABASE_SCHEMA),
      createDataSource({ kind: 'mysql', url: database.url }, DATABASE_SCHEMA),
    ];
    try {
      await Promise.all(sources.map((source) => source.initialize()));
      await Promise.all(sources.map((source) => migrate(source, createLogger('silent'))));
      const rows = await sources[0].query('SELECT COUNT(*) AS applied FROM migrations');
      expect(Number(rows[0].applied)).toBe(sources[0].migrations.length);
    } finally {
      await Promise.all(sources.map((source) => source.destroy()));
      await database.drop();
    }
  });
});
