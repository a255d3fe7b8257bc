import { syncOrganization } from '../support/directory';
import type { TestApp } from '../support/test-app';
import { enrollTotp, type EnrolledUser } from '../support/two-factor';

/**
 * The bad-input suite's cases, in one table: malformed inputs for every operation
 * of the contract, and malformed requests at the transport. The suite
 * (bad-input.test.ts) checks each gets a typed error of the contract and changes
 * nothing; the executor parity proof (test/graphql/executor-parity.test.ts)
 * checks graphql-jit and graphql-js answer each one with the same bytes.
 */

const BIG = 'x'.repeat(60_000);
const TEXT_ATTACKS = [
  '',
  ' ',
  '\u0000',
  'a\u0007b',
  '\u202e\u202d',
  '😀'.repeat(20),
  "' OR '1'='1' --",
  '1; DROP TABLE users; --',
  '{"$gt": ""}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00%0d%0a',
  '١٢٣٤٥٦',
  '12345６',
  BIG,
];
const WRONG_TYPES = [123456, 1.5, true, {}, [], { $gt: '' }];
const BAD_IDS = [
  '',
  ' ',
  'a b',
  'x'.repeat(129),
  'ü',
  '\u0000',
  'a\nb',
  '😀',
  "' OR 1=1 --",
  '{"$gt": ""}',
  BIG,
  1.5,
  true,
  {},
  [],
  null,
];
const BAD_CODES = [
  ...TEXT_ATTACKS,
  '12345',
  '1234567',
  '+12345',
  '12345a',
  ' 12 34 56 ',
  'ABCDE-FGHIJ-KLMNO-PQRST-UVWX1',
  ...WRONG_TYPES,
  null,
];
const NOT_INTS = [2 ** 31, -(2 ** 31) - 1, 1e100, 1.5, '10', true, {}, []];
const BAD_FIRSTS = [-1, 0, 101, ...NOT_INTS];
const BAD_DAYS = [-1, 91, 1000, ...NOT_INTS];
const BAD_PHONES = [
  ...TEXT_ATTACKS,
  '4155552671',
  '+1',
  '+1415555267100000',
  '+445611234567',
  '+19995550100',
  'tel:+14155552671',
  ...WRONG_TYPES,
  null,
];
const BAD_CURSORS = [
  '',
  '!!!',
  'not-a-cursor',
  Buffer.from('["members:other:*:*","a"]').toString('base64url'),
  Buffer.from('{"$gt":""}').toString('base64url'),
  'x'.repeat(5_000),
  5,
  {},
];
const BAD_ENUMS = ['ADMIN', 'owner', '', 1, null, {}];
/** organizationAccess's sessionAmr: at most 10 values, each 1 to 32 printable ASCII characters. */
const BAD_SESSION_AMRS = [
  Array.from({ length: 11 }, () => 'otp'),
  Array.from({ length: 10_000 }, () => 'hwk'),
  ...TEXT_ATTACKS.filter((text) => !/^[\x20-\x7e]{1,32}$/.test(text)).map((text) => ['pwd', text]),
  ['x'.repeat(33)],
  ['otp\n'],
  ['ü'],
  ...WRONG_TYPES.filter((value) => !Array.isArray(value)),
  [1.5],
  [null],
  [['hwk']],
];
/** What a WebAuthn `JSON` argument may be sent instead of a browser's response. */
const BAD_WEBAUTHN = [
  ...TEXT_ATTACKS,
  ...WRONG_TYPES,
  { id: 'x', rawId: 'x', type: 'public-key', response: {} },
  {
    id: 'A'.repeat(40),
    rawId: 'A'.repeat(40),
    type: 'public-key',
    response: { clientDataJSON: '!!', authenticatorData: 'AA', signature: 'AA' },
  },
  { nested: { deeper: { deeper: { deeper: { deeper: { deeper: { deeper: { deeper: { deeper: {} } } } } } } } } },
  Array.from({ length: 2_000 }, (_, i) => i),
  { big: BIG },
];
const BAD_NAMES = [
  ...TEXT_ATTACKS.filter((v) => v.trim() === '' || /[\u0000-\u001f\u202e]/.test(v) || v === BIG),
  ...WRONG_TYPES,
];
const BAD_FILTERS = [{ twoFactorEnabled: 'yes' }, { role: 'ADMIN' }, { unknown: 1 }, 'OWNER', [], 5];
const BAD_BOOLEANS = ['yes', 'true', 1, 0, {}, []];
/** An exemption's end: not a time, in the past or now-ish, or more than 90 days ahead. */
const BAD_UNTILS = [
  ...TEXT_ATTACKS,
  'tomorrow',
  '2026-13-45T00:00:00Z',
  '2020-01-01T00:00:00.000Z',
  '1970-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  new Date(Date.now() + 91 * 24 * 3600_000).toISOString(),
  ...WRONG_TYPES,
  -1,
  null,
];
/** A valid exemption's end: a week ahead. */
const IN_A_WEEK = new Date(Date.now() + 7 * 24 * 3600_000).toISOString();

export interface Operation {
  document: string;
  /** Harmless values that still make the operation fail (unknown entities, wrong codes). */
  base: Record<string, unknown>;
  bad: Record<string, unknown[]>;
  token: 'user' | 'all' | 'none';
}

export const OPERATIONS: Record<string, Operation> = {
  user: {
    document: 'query($id: ID!) { user(id: $id) { id } }',
    base: { id: 'a b' },
    bad: { id: BAD_IDS },
    token: 'all',
  },
  users: {
    document: 'query($ids: [ID!]!) { users(ids: $ids) { id } }',
    base: { ids: ['a b'] },
    bad: { ids: [...BAD_IDS.map((id) => [id]), Array.from({ length: 101 }, (_, i) => `u${i}`), 'a b', {}] },
    token: 'all',
  },
  organization: {
    document: 'query($id: ID!) { organization(id: $id) { id } }',
    base: { id: 'a b' },
    bad: { id: BAD_IDS },
    token: 'all',
  },
  members: {
    document:
      'query($id: ID!, $first: Int, $after: String, $filter: MemberFilter) { organization(id: $id) { members(first: $first, after: $after, filter: $filter) { totalCount } } }',
    base: { id: 'seeded-org', first: 10 },
    bad: { first: BAD_FIRSTS, after: BAD_CURSORS, filter: BAD_FILTERS },
    token: 'all',
  },
  organizationAccess: {
    document: 'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u) { allowed } }',
    base: { o: 'a b', u: 'a b' },
    bad: { o: BAD_IDS, u: BAD_IDS },
    token: 'all',
  },
  organizationAccessSession: {
    document:
      'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed } }',
    base: { o: 'seeded-org', u: 'victim' },
    bad: { s: BAD_SESSION_AMRS },
    token: 'all',
  },
  auditEvents: {
    document:
      'query($u: ID, $o: ID, $first: Int, $after: String) { auditEvents(userId: $u, organizationId: $o, first: $first, after: $after) { edges { cursor } } }',
    base: { first: 5 },
    bad: {
      u: BAD_IDS.filter((id) => id !== null),
      o: BAD_IDS.filter((id) => id !== null),
      first: BAD_FIRSTS,
      after: BAD_CURSORS,
    },
    token: 'all',
  },
  startTotpSetup: {
    document: 'mutation($c: String) { startTotpSetup(code: $c) { secret } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES.filter((c) => c !== null) },
    token: 'user',
  },
  confirmTotpSetup: {
    document: 'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  startSmsSetup: {
    document: 'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked } }',
    base: { p: 'nope', c: '000000' },
    bad: { p: BAD_PHONES, c: BAD_CODES },
    token: 'user',
  },
  startSmsSetupLocale: {
    // A number that could receive SMS: the malformed locale alone is refused, before any send or step-up.
    document:
      'mutation($p: String!, $c: String, $l: String) { startSmsSetup(phoneNumber: $p, code: $c, locale: $l) { phoneNumberMasked } }',
    base: { p: '+14155550123', c: '000000' },
    bad: { l: [...TEXT_ATTACKS.filter((l) => l !== null), 'en_US', 'x-private', 'de-', 'i-klingon'] },
    token: 'user',
  },
  confirmSmsSetup: {
    document: 'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  viewRecoveryCodes: {
    document: 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  regenerateRecoveryCodes: {
    document: 'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { generatedAt } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  removeTotp: {
    document: 'mutation($c: String!) { removeTotp(code: $c) { enabled } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  removeSms: {
    document: 'mutation($c: String!) { removeSms(code: $c) { enabled } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  disableTwoFactor: {
    document: 'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
    base: { c: '000000' },
    bad: { c: BAD_CODES },
    token: 'user',
  },
  startLoginChallenge: {
    document: 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }',
    base: { u: 'a b' },
    bad: { u: BAD_IDS },
    token: 'all',
  },
  sendLoginSmsCode: {
    document: 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }',
    base: { id: 'unknown' },
    bad: { id: BAD_IDS },
    token: 'none',
  },
  verifyLoginChallenge: {
    document: 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { assertion } }',
    base: { id: 'unknown', c: '000000' },
    bad: { id: BAD_IDS, c: BAD_CODES },
    token: 'none',
  },
  startWebAuthnRegistration: {
    document: 'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { expiresAt } }',
    base: { w: { id: 'x' } },
    bad: { w: BAD_WEBAUTHN },
    token: 'user',
  },
  confirmWebAuthnRegistration: {
    document:
      'mutation($r: JSON!, $n: String) { confirmWebAuthnRegistration(response: $r, name: $n) { recoveryCodes } }',
    base: { r: { id: 'x' } },
    bad: { r: [...BAD_WEBAUTHN, null], n: BAD_NAMES },
    token: 'user',
  },
  renameWebAuthnCredential: {
    document: 'mutation($id: ID!, $n: String!) { renameWebAuthnCredential(id: $id, name: $n) { name } }',
    base: { id: 'unknown', n: 'Key' },
    bad: { id: BAD_IDS, n: [...BAD_NAMES, null] },
    token: 'user',
  },
  removeWebAuthnCredential: {
    document: 'mutation($id: ID!, $w: JSON) { removeWebAuthnCredential(id: $id, webAuthn: $w) { enabled } }',
    base: { id: 'unknown', w: { id: 'x' } },
    bad: { id: BAD_IDS, w: BAD_WEBAUTHN },
    token: 'user',
  },
  verifyLoginChallengeWithAKey: {
    document: 'mutation($id: ID!, $w: JSON) { verifyLoginChallenge(challengeId: $id, webAuthn: $w) { assertion } }',
    base: { id: 'unknown', w: { id: 'x' } },
    bad: { w: BAD_WEBAUTHN },
    token: 'none',
  },
  requirePhishingResistantTwoFactor: {
    document:
      'mutation($o: ID!, $d: Int) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }',
    base: { o: 'a b', d: 0 },
    bad: { o: BAD_IDS, d: BAD_DAYS },
    token: 'user',
  },
  requireTwoFactor: {
    document: 'mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }',
    base: { o: 'a b', d: 0 },
    bad: { o: BAD_IDS, d: BAD_DAYS },
    token: 'user',
  },
  stopRequiringTwoFactor: {
    document: 'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }',
    base: { o: 'a b' },
    bad: { o: BAD_IDS },
    token: 'user',
  },
  setAcceptsIdentityProviderMfa: {
    document:
      'mutation($o: ID!, $a: Boolean!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: $a) { id } }',
    base: { o: 'a b', a: true },
    bad: { o: BAD_IDS, a: [...BAD_BOOLEANS, null] },
    token: 'user',
  },
  previewTwoFactorRequirement: {
    document:
      'query($o: ID!, $pr: Boolean, $first: Int, $after: String) { previewTwoFactorRequirement(organizationId: $o, phishingResistant: $pr) { membersAffected affectedMembers(first: $first, after: $after) { totalCount } } }',
    base: { o: 'seeded-org', first: 10 },
    bad: { o: BAD_IDS, pr: BAD_BOOLEANS, first: BAD_FIRSTS, after: BAD_CURSORS },
    token: 'user',
  },
  exemptFromTwoFactor: {
    document:
      'mutation($o: ID!, $u: ID!, $t: DateTimeISO!, $r: String!) { exemptFromTwoFactor(organizationId: $o, userId: $u, until: $t, reason: $r) { endsAt } }',
    // Valid but for the one bad value of each case: the victim owns seeded-org, `other` is its member.
    base: { o: 'seeded-org', u: 'other', t: IN_A_WEEK, r: 'On leave' },
    bad: {
      o: BAD_IDS,
      u: [...BAD_IDS, 'victim', 'not-a-member'],
      t: BAD_UNTILS,
      r: [...BAD_NAMES, 'x'.repeat(501), 'a\u200bb', null],
    },
    token: 'user',
  },
  endTwoFactorExemption: {
    document: 'mutation($o: ID!, $u: ID!) { endTwoFactorExemption(organizationId: $o, userId: $u) }',
    base: { o: 'a b', u: 'a b' },
    bad: { o: BAD_IDS, u: BAD_IDS },
    token: 'user',
  },
  upsertOrganization: {
    document: 'mutation($id: ID!, $name: String!) { upsertOrganization(id: $id, name: $name) { id } }',
    base: { id: 'a b', name: '' },
    bad: {
      id: BAD_IDS,
      name: [
        ...TEXT_ATTACKS.filter((v) => v.trim() === '' || /[\u0000-\u001f]/.test(v) || v === BIG),
        ...WRONG_TYPES,
        null,
      ],
    },
    token: 'all',
  },
  setMembership: {
    document:
      'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }',
    base: { o: 'a b', u: 'a b', r: 'ADMIN' },
    bad: { o: BAD_IDS, u: BAD_IDS, r: BAD_ENUMS },
    token: 'all',
  },
  removeMembership: {
    document: 'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }',
    base: { o: 'a b', u: 'a b' },
    bad: { o: BAD_IDS, u: BAD_IDS },
    token: 'all',
  },
  deleteOrganization: {
    document: 'mutation($id: ID!) { deleteOrganization(id: $id) }',
    base: { id: 'a b' },
    bad: { id: BAD_IDS },
    token: 'all',
  },
  deleteUser: {
    document: 'mutation($u: ID!) { deleteUser(userId: $u) }',
    base: { u: 'a b' },
    bad: { u: BAD_IDS },
    token: 'all',
  },
  resetTwoFactor: {
    document: 'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }',
    base: { u: 'a b', r: '' },
    bad: {
      u: BAD_IDS,
      r: [
        ...TEXT_ATTACKS.filter((v) => v.trim() === '' || /[\u0000-\u001f]/.test(v) || v === BIG),
        ...WRONG_TYPES,
        null,
      ],
    },
    token: 'all',
  },
};

export type CallerTokens = Record<Operation['token'], string | undefined>;

export interface OperationCase {
  name: string;
  document: string;
  variables: Record<string, unknown>;
  token?: string;
}

/** What the cases act on: a user with TOTP (the victim) who owns `seeded-org`; a token per kind of caller. */
export async function setUpBadInputTarget(t: TestApp): Promise<{ victim: EnrolledUser; tokens: CallerTokens }> {
  const victim = await enrollTotp(t, 'victim');
  await syncOrganization(t, 'seeded-org', { victim: 'OWNER', other: 'MEMBER' });
  return {
    victim,
    tokens: {
      user: victim.token,
      all: await t.token('victim', ['twofactor:read', 'twofactor:login', 'twofactor:directory', 'twofactor:admin']),
      none: undefined,
    },
  };
}

/** Every operation's every bad value, each alone on the operation's harmless base values. */
export function operationCases(tokens: CallerTokens): OperationCase[] {
  const cases: OperationCase[] = [];
  for (const [name, operation] of Object.entries(OPERATIONS)) {
    for (const [argument, values] of Object.entries(operation.bad)) {
      for (const value of values) {
        cases.push({
          name: `${name}(${argument}=${JSON.stringify(value)?.slice(0, 40)})`,
          document: operation.document,
          variables: { ...operation.base, [argument]: value },
          token: tokens[operation.token],
        });
      }
    }
  }
  return cases;
}

/** Bodies refused at the transport: [name, content type, body, status]. */
export const TRANSPORT_CASES: [string, string, string, number][] = [
  ['broken JSON', 'application/json', '{"query": "{ me { id } "', 400],
  ['a JSON string', 'application/json', '"{ me { id } }"', 400],
  ['a JSON number', 'application/json', '42', 400],
  ['null', 'application/json', 'null', 400],
  ['a batch', 'application/json', '[{"query":"{ me { id } }"}]', 400],
  ['an empty batch', 'application/json', '[]', 400],
  ['no query', 'application/json', '{"variables":{}}', 400],
  ['a query that is not a string', 'application/json', '{"query": {"$gt": ""}}', 400],
  ['variables that are not an object', 'application/json', '{"query": "{ me { id } }", "variables": "x"}', 400],
  ['text/plain', 'text/plain', '{"query":"{ me { id } }"}', 400],
  ['form data', 'application/x-www-form-urlencoded', 'query=%7B+me+%7B+id+%7D+%7D', 400],
  ['xml', 'application/xml', '<query/>', 400],
  [
    'an oversized body',
    'application/json',
    JSON.stringify({ query: '{ me { id } }', variables: { x: 'y'.repeat(300_000) } }),
    413,
  ],
];

/** Variables nested 5,000 deep (sent with the `all` token). */
export const DEEPLY_NESTED_BODY = `{"query":"query($ids: [ID!]!) { users(ids: $ids) { id } }","variables":{"ids":${'['.repeat(5000)}${']'.repeat(5000)}}}`;

/** A mutation sent with GET (with the user's token and Apollo's preflight header). */
export const MUTATION_BY_GET = `/graphql?query=${encodeURIComponent('mutation { sendSmsCode { phoneNumberMasked } }')}`;
