import { AttemptLimits } from '../../src/attempts/attempt-limits';
import { StoreKeyHash } from '../../src/infra/crypto/store-key-hash';
import { MemoryStore } from '../../src/infra/store/memory-store';
import { LIMITS } from '../../src/limits';
import { errorCode, startTestApp, type TestApp } from '../support/test-app';

const QUOTA = 5;

/** Each group: addresses that must share one quota (QUOTA attempts in all). */
const SAME_CLIENT: [string, string[]][] = [
  [
    'an IPv4 address and its IPv4-mapped IPv6 forms',
    [
      '203.0.113.7',
      '::ffff:203.0.113.7',
      '::FFFF:203.0.113.7',
      '::ffff:cb00:7107',
      '0:0:0:0:0:ffff:cb00:7107',
      '203.0.113.7',
    ],
  ],
  [
    'every address of one IPv6 /64',
    [
      '2001:db8:1:2::1',
      '2001:db8:1:2::2',
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:db8:1:2:a:b:c:d',
      '2001:db8:1:2::99',
      '2001:db8:1:2::1',
    ],
  ],
  [
    'other spellings of one IPv6 address',
    [
      '2001:DB8:5::1',
      '2001:0db8:0005:0000:0000:0000:0000:0001',
      '2001:db8:5:0::0:1',
      '2001:db8:5::1%eth0',
      '[2001:db8:5::1]',
      '2001:db8:5::1',
    ],
  ],
];

/** The attempt counted against the address, refused (thrown) past the quota. */
const admitIp = async (quota: AttemptLimits, address: string) => {
  const { refusal } = await quota.admit(address);
  if (refusal) throw refusal;
};

describe('the per-IP attempt quota (in-process store)', () => {
  const limits = () =>
    new AttemptLimits(
      new MemoryStore(),
      {
        userFailuresPerWindow: LIMITS.userFailuresPerWindow,
        userFailureWindowSeconds: LIMITS.userFailureWindowSeconds,
        ipAttemptsPerMinute: QUOTA,
      },
      new StoreKeyHash(Buffer.alloc(32, 5)),
    );

  it.each(SAME_CLIENT)('counts %s as one client', async (_name, addresses) => {
    const quota = limits();
    for (const address of addresses.slice(0, QUOTA)) await admitIp(quota, address);
    await expect(admitIp(quota, addresses[QUOTA])).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('gives another IPv4 address, another /64 and a NAT64 address their own quota', async () => {
    const quota = limits();
    for (let i = 0; i < QUOTA; i += 1) await admitIp(quota, '2001:db8:1:2::1');
    for (let i = 0; i < QUOTA; i += 1) await admitIp(quota, '203.0.113.7');
    await admitIp(quota, '2001:db8:1:3::1'); // the next /64
    await admitIp(quota, '203.0.113.8');
    // NAT64 (64:ff9b::/96) is not IPv4-mapped (::ffff:0:0/96): an IPv6 /64 of its own.
    await admitIp(quota, '64:ff9b::203.0.113.7');
  });
});

describe('the per-IP attempt quota over HTTP (X-Forwarded-For from one trusted proxy)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: String(QUOTA), TRUST_PROXY: '1' } });
  });
  afterAll(() => t?.close());

  const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId } }';
  const verify = (ip: string) =>
    t.gql(VERIFY, { id: 'A'.repeat(24), c: '123456' }, undefined, { 'x-forwarded-for': ip });

  it.each([
    ['the addresses of one /64', (i: number) => `2001:db8:77:1::${(i + 1).toString(16)}`],
    ['an IPv4 address in its spellings', (i: number) => (i % 2 === 0 ? '198.51.100.23' : '::ffff:198.51.100.23')],
  ])('refuses %s past the quota', async (_name, address) => {
    for (let i = 0; i < QUOTA; i += 1) expect(errorCode(await verify(address(i)))).toBe('CHALLENGE_NOT_FOUND');
    expect(errorCode(await verify(address(QUOTA)))).toBe('RATE_LIMITED');
  });
});
