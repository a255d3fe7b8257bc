import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Makes the service's own random draws (ids, secrets, codes, challenges, IVs;
 * Math.random's too: a webhook retry's jitter) repeatable, so that two
 * instances sent the same requests in lockstep answer the same bytes. Draws
 * made by code under src/ come from a stream reset by `reseed`; draws made by
 * the tests (a soft authenticator's credential id, a fixture's tag) stay truly
 * random: what they make is sent to both instances alike, and they may run
 * while an instance is answering.
 */
export interface SeededRandomness {
  reseed(seed: string): void;
  /** Draws taken from the seeded stream since the last reseed. */
  readonly draws: number;
  restore(): void;
}

const SRC = join(__dirname, '..', '..', 'src') + '/';
const TEST = join(__dirname, '..', '..', 'test') + '/';

export function seedServiceRandomness(): SeededRandomness {
  const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  const real = {
    randomBytes: crypto.randomBytes,
    randomInt: crypto.randomInt,
    randomUUID: crypto.randomUUID,
    randomFillSync: crypto.randomFillSync,
    getRandomValues: crypto.webcrypto.getRandomValues.bind(crypto.webcrypto),
    mathRandom: Math.random.bind(Math),
  };
  let seed = 'unseeded';
  let block = 0;
  let pool = Buffer.alloc(0);
  let draws = 0;

  const take = (size: number): Buffer => {
    draws += 1;
    while (pool.length < size) {
      const next = createHash('sha256').update(`${seed}/${block++}`).digest();
      pool = Buffer.concat([pool, next]);
    }
    const out = Buffer.from(pool.subarray(0, size));
    pool = pool.subarray(size);
    return out;
  };

  // Whose draw this is: the first frame in our own code, below node_modules and this file.
  const byService = (): boolean => {
    const stack = new Error().stack ?? '';
    for (const line of stack.split('\n').slice(2)) {
      if (line.includes(SRC)) return true;
      if (line.includes(TEST) && !line.includes(__filename)) return false;
    }
    return false;
  };

  const spies = [
    jest.spyOn(crypto, 'randomBytes').mockImplementation(((size: number, callback?: Function) => {
      if (!byService()) return (real.randomBytes as Function)(size, callback);
      const bytes = take(size);
      if (callback) {
        queueMicrotask(() => callback(null, bytes));
        return undefined;
      }
      return bytes;
    }) as typeof crypto.randomBytes),
    jest.spyOn(crypto, 'randomInt').mockImplementation(((...args: unknown[]) => {
      if (!byService() || typeof args[args.length - 1] === 'function') return (real.randomInt as Function)(...args);
      const [min, max] = args.length >= 2 ? [args[0] as number, args[1] as number] : [0, args[0] as number];
      // Rejection sampling over 48 bits, as node does: uniform in [min, max).
      const range = max - min;
      const limit = 2 ** 48 - (2 ** 48 % range);
      for (;;) {
        const value = take(6).readUIntBE(0, 6);
        if (value < limit) return min + (value % range);
      }
    }) as typeof crypto.randomInt),
    jest.spyOn(crypto, 'randomUUID').mockImplementation(((options?: unknown) => {
      if (!byService()) return real.randomUUID(options as never);
      const bytes = take(16);
      bytes[6] = (bytes[6] & 0x0f) | 0x40;
      bytes[8] = (bytes[8] & 0x3f) | 0x80;
      const hex = bytes.toString('hex');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    }) as typeof crypto.randomUUID),
    jest.spyOn(crypto, 'randomFillSync').mockImplementation(((
      buffer: NodeJS.ArrayBufferView,
      offset = 0,
      size?: number,
    ) => {
      if (!byService()) return real.randomFillSync(buffer, offset, size);
      const view = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      view.set(take(size ?? view.length - offset), offset);
      return buffer;
    }) as typeof crypto.randomFillSync),
    jest.spyOn(crypto.webcrypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T) => {
      if (!array || !byService()) return real.getRandomValues(array as never) as T;
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(take(array.byteLength));
      return array;
    }),
    // Not for secrets, but it varies what an answer shows: a webhook retry's jitter (delivery-worker.ts).
    jest
      .spyOn(Math, 'random')
      .mockImplementation(() => (byService() ? take(6).readUIntBE(0, 6) / 2 ** 48 : real.mathRandom())),
  ];

  return {
    reseed(next: string) {
      seed = next;
      block = 0;
      pool = Buffer.alloc(0);
      draws = 0;
    },
    get draws() {
      return draws;
    },
    restore() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}
