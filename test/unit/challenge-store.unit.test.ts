import { ManualClock } from '../../src/infra/clock';
import { SecretBox } from '../../src/infra/crypto/cipher';
import { StoreKeyHash } from '../../src/infra/crypto/store-key-hash';
import { MemoryStore } from '../../src/infra/store/memory-store';
import { ChallengeStore } from '../../src/login/challenge-store';
import type { SpentLoginChallenges } from '../../src/login/spent-login-challenges';

/** What a login challenge leaves in the store (the keys and values a reader of Redis sees). */
describe('login challenges in the store (in-process store)', () => {
  const key = Buffer.alloc(32, 3);
  const clock = new ManualClock(new Date('2026-12-01T10:00:00Z'));
  const store = new MemoryStore();
  const written: string[] = [];
  const recording = Object.assign(Object.create(store) as MemoryStore, {
    set: async (name: string, value: string, ttlMs: number) => {
      written.push(name, value);
      return store.set(name, value, ttlMs);
    },
  });
  // Nothing is spent here (the spent list is the database's: test/login/login.test.ts).
  const unspent = { isSpent: async () => false } as unknown as SpentLoginChallenges;
  const challenges = new ChallengeStore(recording, new SecretBox(key), new StoreKeyHash(key), unspent, clock);

  it('keeps neither the challenge id nor the user id in clear, and finds the challenge by its id', async () => {
    const userId = 'alice@example.com';
    const challenge = await challenges.open(userId);
    expect(written).toHaveLength(2);
    for (const text of written) {
      expect(text).not.toContain(userId);
      expect(text).not.toContain(challenge.id);
    }
    expect(await challenges.find(challenge.id)).toEqual(challenge);
    clock.advance(5 * 60 * 1000);
    expect(await challenges.find(challenge.id)).toBeNull();
  });

  it('still reads a challenge written in clear before values were encrypted', async () => {
    const challenge = await challenges.open('bob');
    const name = written[written.length - 2];
    const expiresAt = challenge.expiresAt.getTime();
    await store.set(name, JSON.stringify({ userId: 'bob', expiresAt }), 60_000);
    expect(await challenges.find(challenge.id)).toEqual(challenge);
  });
});
