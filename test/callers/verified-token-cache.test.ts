import { VerifiedTokenCache } from '../../src/callers/verified-token-cache';

describe('verified token cache', () => {
  const caller = { subject: 'alice', scopes: new Set<string>() };

  it('forgets a token at its expiry, even within the minute', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', caller, 1_010_000, 1_000_000);
    expect(cache.get('t', 1_009_999)).toBe(caller);
    expect(cache.get('t', 1_010_000)).toBeUndefined();
  });

  it('keeps a token at most a minute', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', caller, 10_000_000, 1_000_000);
    expect(cache.get('t', 1_059_999)).toBe(caller);
    expect(cache.get('t', 1_060_000)).toBeUndefined();
  });

  it('never keeps an already expired token, and stays bounded', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('old', caller, 999, 1_000);
    expect(cache.get('old', 1_000)).toBeUndefined();
    cache.set('a', caller, undefined, 0);
    cache.set('b', caller, undefined, 0);
    cache.set('c', caller, undefined, 0);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(cache.get('c', 1)).toBe(caller);
  });
});
