import { internalKind, NetworkPolicy, parseIpv6 } from '../../src/infra/outbound/network-policy';

/** The SSRF guard's judgement of addresses and stored URLs (the requests themselves: ssrf.test.ts). */
describe('webhooks: the network policy', () => {
  describe('internal addresses', () => {
    it.each([
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'shared (CGNAT)'],
      ['0.0.0.0', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      ['198.18.0.1', 'benchmarking'],
      ['192.0.2.10', 'documentation'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
      ['::127.0.0.1', 'IPv4-compatible'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['fc00::1', 'private (unique local)'],
      ['fd12:3456::1', 'private (unique local)'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['2002:7f00:1::', '6to4'],
      ['2001:0:4136:e378::1', 'reserved'],
      ['100::1', 'discard'],
      ['4000::1', 'reserved'],
      ['not-an-address', 'not an IP address'],
    ])('%s is %s', (address, kind) => {
      expect(internalKind(address)).toBe(kind);
    });

    it.each(['8.8.8.8', '93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
      '%s is public',
      (address) => {
        expect(internalKind(address)).toBeNull();
      },
    );

    it('parses IPv6 as written in any of its forms', () => {
      expect(parseIpv6('::ffff:127.0.0.1')).toBe(parseIpv6('0:0:0:0:0:ffff:7f00:0001'));
      expect(parseIpv6('[2001:db8::1]')).toBe(0x20010db8000000000000000000000001n);
      expect(parseIpv6('1::2::3')).toBeNull();
      expect(parseIpv6('1:2:3:4:5:6:7:8:9')).toBeNull();
      expect(parseIpv6('::ffff:300.1.1.1')).toBeNull();
    });
  });

  it('refuses a stored http or internal URL when a request is made (the setting may have changed)', () => {
    const policy = new NetworkPolicy(false);
    expect(policy.refusal('http://hooks.example.test/')).toContain('must be https');
    expect(policy.refusal('https://127.0.0.1:9/')).toBe('refused: 127.0.0.1 is a loopback address');
    expect(policy.refusal('https://[fd00::1]/')).toBe('refused: fd00::1 is a private (unique local) address');
    expect(policy.refusal('https://hooks.example.test/')).toBeNull();
    expect(new NetworkPolicy(true).refusal('http://127.0.0.1:9/')).toBeNull();
  });
});
