import { Writable } from 'node:stream';
import { SmsCountryRules } from '../../../src/factors/sms/sms-country-rules';
import { SmsSendLimits, type SendRequest } from '../../../src/factors/sms/sms-send-limits';
import { systemClock } from '../../../src/infra/clock';
import { StoreKeyHash } from '../../../src/infra/crypto/store-key-hash';
import { createLogger } from '../../../src/infra/logger';
import { MemoryStore } from '../../../src/infra/store/memory-store';
import type { Limiter, LimiterOptions } from '../../../src/infra/store/store';

/**
 * Issue 21, finding 14: giving back a send's counts (a publish that failed, a
 * send refused part-way) swallowed the store's error silently. It may be
 * swallowed (the caller's own error is what it answers; a count not given back
 * only makes the limits stricter until its window ends), but it is logged.
 */
describe('SMS send limits when giving counts back fails', () => {
  /** The in-process store, whose limiters cannot give points back. */
  class RefundFailingStore extends MemoryStore {
    limiter(options: LimiterOptions): Limiter {
      const real = super.limiter(options);
      return {
        consume: (key, points) => real.consume(key, points),
        peek: (key) => real.peek(key),
        reset: (key) => real.reset(key),
        refund: async () => {
          throw new Error('the store went away');
        },
      };
    }
  }

  function setUp() {
    const lines: string[] = [];
    const logger = createLogger('info', {
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const store = new RefundFailingStore();
    const limits = new SmsSendLimits(
      store,
      { daily: 100, setupDaily: 20 },
      new StoreKeyHash(Buffer.alloc(32, 5)),
      logger,
      new SmsCountryRules(store, null, null, systemClock),
    );
    return { limits, store, warnings: () => lines.map((line) => JSON.parse(line)).filter((line) => line.level === 40) };
  }

  const request = (purposeKey: string): SendRequest => ({
    userId: 'alice',
    e164: '+14155550123',
    country: 'US',
    purposeKey,
    confirmed: true,
  });

  it('a failed publish gives its counts back; when the store fails, that is logged (why it may be), not thrown', async () => {
    const { limits, store, warnings } = setUp();
    const giveBack = await limits.take(request('step-up:alice'));
    await expect(giveBack()).resolves.toBeUndefined();
    expect(warnings()).toEqual([
      expect.objectContaining({
        msg: expect.stringMatching(/could not give back .*SMS.*stays counted/),
        err: expect.objectContaining({ message: 'the store went away' }),
      }),
    ]);
    // Nothing of the number or the user in the line.
    expect(JSON.stringify(warnings())).not.toMatch(/4155550123|alice/);
    await store.close();
  });

  it('a send refused part-way gives back what it counted; a failure to is logged, and RATE_LIMITED still answers', async () => {
    const { limits, store, warnings } = setUp();
    await limits.take(request('login:one'));
    // The same number and purpose again within the resend interval: refused after counting.
    await expect(limits.take(request('login:one'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(warnings()).toHaveLength(1);
    await store.close();
  });
});
