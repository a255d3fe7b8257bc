import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { badInput } from '../../errors';
import { LIMITS } from '../../limits';

/** Resolves a host name to every address it has (dns.lookup with all: true, by default). */
export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolve: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

/** Refused by the SSRF guard: the message names the host and why, never more. */
export class BlockedAddressError extends Error {
  readonly code = 'EWEBHOOKBLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

type Range = readonly [prefix: bigint, bits: number, kind: string];

const v4 = (text: string): bigint => text.split('.').reduce((sum, part) => (sum << 8n) | BigInt(Number(part)), 0n);

/** IPv4 ranges no webhook may reach (IANA special-purpose registry, RFC 6890 and successors). */
const IPV4_BLOCKED: readonly Range[] = [
  [v4('0.0.0.0'), 8, 'unspecified'],
  [v4('10.0.0.0'), 8, 'private'],
  [v4('100.64.0.0'), 10, 'shared (CGNAT)'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local'],
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.0.0.0'), 24, 'reserved'],
  [v4('192.0.2.0'), 24, 'documentation'],
  [v4('192.88.99.0'), 24, 'reserved'],
  [v4('192.168.0.0'), 16, 'private'],
  [v4('198.18.0.0'), 15, 'benchmarking'],
  [v4('198.51.100.0'), 24, 'documentation'],
  [v4('203.0.113.0'), 24, 'documentation'],
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved'],
];

/** IPv6 ranges named for messages; anything outside 2000::/3 (global unicast) is refused as well. */
const IPV6_NAMED: readonly Range[] = [
  [0n, 128, 'unspecified'],
  [1n, 128, 'loopback'],
  [0n, 96, 'IPv4-compatible'],
  [parseIpv6('64:ff9b:1::')!, 48, 'NAT64 (local)'],
  [parseIpv6('100::')!, 64, 'discard'],
  [parseIpv6('2001::')!, 23, 'reserved'],
  [parseIpv6('2001:db8::')!, 32, 'documentation'],
  [parseIpv6('2002::')!, 16, '6to4'],
  [parseIpv6('3fff::')!, 20, 'documentation'],
  [parseIpv6('fc00::')!, 7, 'private (unique local)'],
  [parseIpv6('fe80::')!, 10, 'link-local'],
  [parseIpv6('fec0::')!, 10, 'site-local'],
  [parseIpv6('ff00::')!, 8, 'multicast'],
];
const GLOBAL_UNICAST: Range = [parseIpv6('2000::')!, 3, 'global'];
const IPV4_MAPPED: Range = [parseIpv6('::ffff:0:0')!, 96, 'IPv4-mapped'];
const NAT64: Range = [parseIpv6('64:ff9b::')!, 96, 'NAT64'];

const within = (value: bigint, [prefix, bits]: Range, width: number) =>
  value >> BigInt(width - bits) === prefix >> BigInt(width - bits);

/**
 * Why an address is internal (loopback, private, link-local, multicast,
 * unspecified, CGNAT, documentation, reserved...), or null when it is a public
 * unicast address. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4
 * address inside; anything that is not an IP address is refused.
 */
export function internalKind(address: string): string | null {
  const family = isIP(address);
  if (family === 4) {
    const value = v4(address);
    return IPV4_BLOCKED.find((range) => within(value, range, 32))?.[2] ?? null;
  }
  if (family !== 6) return 'not an IP address';
  const value = parseIpv6(address);
  if (value === null) return 'not an IP address';
  if (within(value, IPV4_MAPPED, 128) || within(value, NAT64, 128)) {
    const inner = value & 0xffffffffn;
    return internalKind([24n, 16n, 8n, 0n].map((shift) => String((inner >> shift) & 0xffn)).join('.'));
  }
  const named = IPV6_NAMED.find((range) => within(value, range, 128));
  if (named) return named[2];
  return within(value, GLOBAL_UNICAST, 128) ? null : 'reserved';
}

/** An IPv6 address (with an optional zone, an embedded IPv4 tail) as a 128-bit number; null when malformed. */
export function parseIpv6(text: string): bigint | null {
  let address = text.replace(/^\[|\]$/g, '').split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    if (isIP(dotted[1]) !== 4) return null;
    const value = v4(dotted[1]);
    address = `${address.slice(0, -dotted[1].length)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) return null;
  return groups.reduce((sum, group) => (sum << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/**
 * The SSRF guard for webhook endpoints. Unless private networks are allowed
 * (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, for internal receivers and tests), an
 * endpoint is an https URL whose host resolves only to public addresses: checked
 * when the endpoint is created or changed (`checkUrl`), and again on the address
 * each request actually connects to (`connectLookup`, `checkLiteral`), so a DNS
 * answer that changes after the check (rebinding) reaches nothing internal.
 */
export class NetworkPolicy {
  constructor(
    readonly allowPrivateNetworks: boolean,
    private readonly resolve: ResolveHost = systemResolve,
    /** Why an address is internal, or null (tests may name a loopback receiver public). */
    private readonly internal: (address: string) => string | null = internalKind,
  ) {}

  /** The endpoint URL as stored (serialized, without a fragment); BAD_USER_INPUT naming what is wrong. */
  async checkUrl(input: string): Promise<string> {
    const url = this.parseUrl(input, (message) => badInput(message, 'url'));
    if (this.allowPrivateNetworks) return url.href;
    const host = bareHost(url.hostname);
    if (isIP(host)) {
      const kind = this.internal(host);
      if (kind) throw badInput(`url: ${host} is a ${kind} address; webhooks go to public addresses only.`, 'url');
      return url.href;
    }
    let addresses: { address: string }[];
    try {
      addresses = await this.resolve(host);
    } catch {
      throw badInput(`url: ${host} does not resolve.`, 'url');
    }
    if (addresses.length === 0) throw badInput(`url: ${host} does not resolve.`, 'url');
    for (const { address } of addresses) {
      const kind = this.internal(address);
      if (kind) {
        throw badInput(
          `url: ${host} resolves to ${address}, a ${kind} address; webhooks go to public addresses only.`,
          'url',
        );
      }
    }
    return url.href;
  }

  /** The stored URL, checked again before a request (the setting may have changed since): a reason to refuse, or null. */
  refusal(stored: string): string | null {
    let url: URL;
    try {
      url = this.parseUrl(stored, (message) => new BlockedAddressError(message));
    } catch (error) {
      return (error as Error).message;
    }
    if (this.allowPrivateNetworks) return null;
    const host = bareHost(url.hostname);
    const kind = isIP(host) ? this.internal(host) : null;
    return kind ? `refused: ${host} is a ${kind} address` : null;
  }

  /**
   * The `lookup` for the HTTP request: resolves the host, and refuses the
   * connection when any address it got is internal. The address connected to is
   * one of these, so the check is on the address actually used.
   */
  readonly connectLookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      (addresses) => {
        const usable = addresses.filter(({ family }) => !options.family || family === options.family);
        if (!this.allowPrivateNetworks) {
          for (const { address } of usable) {
            const kind = this.internal(address);
            if (kind) {
              callback(new BlockedAddressError(`refused: ${hostname} resolves to ${address}, a ${kind} address`), '');
              return;
            }
          }
        }
        if (usable.length === 0) {
          callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '');
          return;
        }
        if (options.all) (callback as (error: null, addresses: typeof usable) => void)(null, usable);
        else callback(null, usable[0].address, usable[0].family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, ''),
    );
  };

  /** The address a socket connected to, checked once more (belt and braces): a reason to refuse, or null. */
  connectedTo(address: string | undefined): string | null {
    if (this.allowPrivateNetworks || !address) return null;
    const kind = this.internal(address);
    return kind ? `refused: connected to ${address}, a ${kind} address` : null;
  }

  private parseUrl(input: string, refuse: (message: string) => Error): URL {
    if (input.length > LIMITS.webhookUrlMaxLength)
      throw refuse(`url: at most ${LIMITS.webhookUrlMaxLength} characters.`);
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw refuse('url: not a URL.');
    }
    const schemes = this.allowPrivateNetworks ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(url.protocol)) {
      throw refuse(
        this.allowPrivateNetworks
          ? 'url: must be https (or http).'
          : 'url: must be https (http only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true).',
      );
    }
    if (url.username || url.password) throw refuse('url: must not hold a user name or password.');
    if (!url.hostname) throw refuse('url: has no host.');
    url.hash = '';
    return url;
  }
}

/** `[::1]` as URL.hostname gives it, without the brackets. */
export const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, '');
