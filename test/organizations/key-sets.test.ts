import { randomUUID } from 'node:crypto';
import { type KeyKind, KeySets } from '../../src/organizations/key-sets';
import { startTestApp, type TestApp } from '../support/test-app';

/** Key sets are interned inside the transactions that register keys, many of them at once. */
describe('key sets', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('give one id to a new set that many registrations write at once, and none of them fails', async () => {
    const writers = 8; // fewer than the pool's connections: all are open at once
    for (let round = 0; round < 3; round += 1) {
      const kinds: KeyKind[] = [{ aaguid: randomUUID(), attested: true, deviceBound: round % 2 === 0 }];
      const allIn = barrier(writers);
      // Each its own instance, as on separate instances: nothing is known from memory. All
      // transactions are open, each with a statement behind it, before any interns.
      const ids = await Promise.all(
        Array.from({ length: writers }, () =>
          t.app.database.transaction(async (manager) => {
            await manager.query('SELECT 1');
            await allIn();
            return new KeySets(t.app.database).intern(manager, kinds);
          }),
        ),
      );
      expect(new Set(ids).size).toBe(1);
      const rows = await t.sql('SELECT COUNT(*) AS n FROM key_sets WHERE id = ?', [ids[0]]);
      expect(Number(rows[0].n)).toBe(1);
    }
  });
});

/** Resolves every caller once `count` of them have called it (the transactions' own progress, not the clock). */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    arrived += 1;
    if (arrived === count) release();
    return all;
  };
}
