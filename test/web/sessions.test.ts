import { ManualClock } from '../../src/infra/clock';
import { SessionStore } from '../../web/server/sessions';

/** The web server's sessions: in its memory, so bounded in count, and swept when they expire. */
describe('the web server keeps a bounded number of sessions', () => {
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const limits = { idleSeconds: 60, maxSeconds: 600, maxCount: 3, sweepSeconds: 30 };
  let store: SessionStore;

  beforeEach(() => {
    store = new SessionStore(limits, () => clock.now().getTime());
  });
  afterEach(() => store.close());

  it('past the maximum, a new session evicts the least recently used one', () => {
    const [a, b, c] = [store.create(), store.create(), store.create()];
    clock.advance(1_000);
    expect(store.get(a.id)).toBe(a); // a is now the most recently used
    const d = store.create();
    expect(store.size).toBe(3);
    expect(store.get(b.id)).toBeUndefined();
    for (const kept of [a, c, d]) expect(store.get(kept.id)).toBe(kept);
  });

  it('a rotated id counts once, and past the maximum evicts like a new session', () => {
    const [a, b, c] = [store.create(), store.create(), store.create()];
    const rotated = store.rotate(a);
    expect(store.size).toBe(3);
    expect(store.get(a.id)).toBeUndefined();
    store.create();
    expect(store.get(b.id)).toBeUndefined();
    expect(store.get(rotated.id)).toBeDefined();
    expect(store.get(c.id)).toBeDefined();
  });

  it('sweeps sessions idle too long, and those past their absolute lifetime even while in use', () => {
    const idle = store.create();
    const busy = store.create();
    clock.advance(50_000);
    store.get(busy.id);
    store.sweep();
    expect(store.size).toBe(2);
    clock.advance(50_000);
    store.get(busy.id);
    store.sweep();
    // idle went after 60 s without use.
    expect(store.get(idle.id)).toBeUndefined();
    expect(store.size).toBe(1);
    for (let elapsed = 100; elapsed <= limits.maxSeconds; elapsed += 50) {
      clock.advance(50_000);
      store.sweep();
      store.get(busy.id);
    }
    // busy, used every 50 s, went after its 600 s all the same.
    expect(store.get(busy.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('forgets an expired session when it is asked for, before any sweep', () => {
    const session = store.create();
    clock.advance((limits.idleSeconds + 1) * 1000);
    expect(store.get(session.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });
});
