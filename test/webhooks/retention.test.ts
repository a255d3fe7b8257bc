import { createConnection } from 'mysql2/promise';
import { PURGE_LOCK } from '../../src/webhooks/outbox-purger';
import { startTestApp, type TestApp } from '../support/test-app';
import { PRIVATE_WEBHOOKS } from '../support/webhook-receiver';

const DAY = 24 * 3600_000;

/** WEBHOOK_RETENTION_DAYS: delivered and failed rows go once older than it, in batches; pending ones stay. */
describe('webhooks: retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { ...PRIVATE_WEBHOOKS, WEBHOOK_RETENTION_DAYS: '30' } });
  });
  afterAll(() => t?.close());

  /** `count` events of `age` days, fanned out, each with one delivery in `state` (inserted in bulk, as old rows would be). */
  async function insert(count: number, ageDays: number, state: string): Promise<void> {
    const at = new Date(t.clock.now().getTime() - ageDays * DAY);
    const rows = Array.from({ length: count }, (_, i) => [`msg_${state}_${ageDays}_${i}`, 'login.failed', '{}', at, 1]);
    const result: any = await t.sql(
      'INSERT INTO webhook_events (webhook_id, type, payload, created_at, fanned_out) VALUES ?',
      [rows],
    );
    const first = Number(result.insertId);
    const deliveries = rows.map((_, i) => [first + i, 'endpoint-x', state, 1, state === 'PENDING' ? at : null, at, at]);
    await t.sql(
      'INSERT INTO webhook_deliveries (event_id, endpoint_id, state, attempts, next_attempt_at, series_started_at, created_at) VALUES ?',
      [deliveries],
    );
  }

  const count = async (table: string) => Number((await t.sql(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  it('purges delivered and failed rows older than the retention in batches, and keeps the rest', async () => {
    // The worker would send the old PENDING rows: they go to an endpoint that does not exist (failed at once).
    await t.app.webhooks.worker.stop(0);
    try {
      await insert(2_300, 31, 'DELIVERED');
      await insert(20, 45, 'FAILED');
      await insert(5, 31, 'PENDING');
      await insert(7, 29, 'DELIVERED');
      expect(await count('webhook_deliveries')).toBe(2_332);

      // Another instance purging now (the lock names this database): this one skips the round.
      const other = await createConnection({ uri: t.databaseUrl });
      const [[held]] = await other.query<any[]>(`SELECT GET_LOCK(${PURGE_LOCK}, 0) AS held`);
      expect(Number(held.held)).toBe(1);
      expect(await t.app.webhooks.purger.runOnce()).toBeNull();
      expect(await count('webhook_deliveries')).toBe(2_332);
      await other.query(`SELECT RELEASE_LOCK(${PURGE_LOCK})`);
      await other.end();

      expect(await t.app.webhooks.purger.runOnce()).toEqual({ deliveries: 2_320, events: 2_320 });
      const left = await t.sql('SELECT state, COUNT(*) AS n FROM webhook_deliveries GROUP BY state ORDER BY state');
      expect(left.map((row) => [row.state, Number(row.n)])).toEqual([
        ['DELIVERED', 7],
        ['PENDING', 5],
      ]);
      expect(await count('webhook_events')).toBe(12);
      // Two at once: one purges, the other skips or finds nothing left.
      await insert(10, 40, 'DELIVERED');
      const both = await Promise.all([t.app.webhooks.purger.runOnce(), t.app.webhooks.purger.runOnce()]);
      expect(both.reduce((sum, result) => sum + (result?.deliveries ?? 0), 0)).toBe(10);
      expect(await count('webhook_deliveries')).toBe(12);
    } finally {
      t.app.webhooks.worker.start();
    }
  });

  it('keeps an event not fanned out yet, however old: it is still owed to the endpoints', async () => {
    await t.app.webhooks.worker.stop(0);
    try {
      const at = new Date(t.clock.now().getTime() - 40 * DAY);
      await t.sql(
        "INSERT INTO webhook_events (webhook_id, type, payload, created_at) VALUES ('msg_owed', 'login.failed', '{}', ?)",
        [at],
      );
      expect(await t.app.webhooks.purger.runOnce()).toEqual({ deliveries: 0, events: 0 });
      const [row] = await t.sql("SELECT fanned_out FROM webhook_events WHERE webhook_id = 'msg_owed'");
      expect(Number(row.fanned_out)).toBe(0);
    } finally {
      t.app.webhooks.worker.start();
    }
  });
});
