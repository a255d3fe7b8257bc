// What is sent in each scenario: queries, ids and tokens, all made before the load starts.
import { graphqlRequest } from './load.mjs';
import { ORGANIZATION_SIZES, organizationId, userId } from './seed.mjs';

export const TYPENAME = JSON.stringify({ query: '{ __typename }' });

export const ACCESS_QUERY =
  'query Access($organizationId: ID!, $userId: ID!) { organizationAccess(organizationId: $organizationId, userId: $userId) { allowed reason graceEndsAt } }';
export const ME_QUERY = '{ me { twoFactor { enabled methods } } }';
export const ORGANIZATION_QUERY = `query Organization($id: ID!) {
  organization(id: $id) {
    compliance { totalMembers membersWithoutTwoFactor }
    members(first: 50, filter: { twoFactorEnabled: false }) { totalCount edges { node { user { id } } } }
  }
}`;

/** The same with the phishing-resistant counters and filter: the first page of members without a WebAuthn credential. */
export const ORGANIZATION_PHISHING_RESISTANT_QUERY = `query OrganizationPhishingResistant($id: ID!) {
  organization(id: $id) {
    compliance { totalMembers membersWithPhishingResistant ownersWithoutPhishingResistant }
    members(first: 50, filter: { phishingResistant: false }) { totalCount edges { node { user { id } } } }
  }
}`;

/** ACCESS_QUERY with more arguments, each a variable of its name (only sessionAmr is typed here). */
function accessQueryWith(names) {
  const types = { sessionAmr: '[String!]' };
  const declared = names.map((name) => `, $${name}: ${types[name] ?? 'String'}`).join('');
  const passed = names.map((name) => `, ${name}: $${name}`).join('');
  return `query Access($organizationId: ID!, $userId: ID!${declared}) { organizationAccess(organizationId: $organizationId, userId: $userId${passed}) { allowed reason graceEndsAt } }`;
}

/** A small deterministic generator, so every run asks the same things. */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const POOL = 1024;

/** Rotates through prepared bodies (and headers), shared by all connections. */
function rotating(items) {
  let next = 0;
  return () => items[next++ % items.length];
}

/**
 * The pairs organizationAccess is asked about: spread over the three
 * organizations (one requires two-factor and its grace ended, one is in its grace
 * period, one requires nothing), 5 % of them not members.
 */
function accessPairs() {
  const random = prng(8);
  const pairs = [];
  for (let i = 0; i < POOL; i += 1) {
    const size = ORGANIZATION_SIZES[Math.floor(random() * ORGANIZATION_SIZES.length)];
    const other = ORGANIZATION_SIZES[(ORGANIZATION_SIZES.indexOf(size) + 1) % ORGANIZATION_SIZES.length];
    const member = random() >= 0.05;
    const pick = member ? size : other;
    const seq = 1 + Math.floor(random() * Math.min(pick.members, size.members));
    pairs.push({ organizationId: organizationId(size.label), userId: userId(pick.label, seq) });
  }
  return pairs;
}

/** organizationAccess by an internal service, for accessPairs(); `extra`: more arguments (e.g. sessionAmr). */
export function accessRequests(readToken, extra = null) {
  const query = extra ? accessQueryWith(Object.keys(extra)) : ACCESS_QUERY;
  const bodies = accessPairs().map((pair) => ({ body: JSON.stringify({ query, variables: { ...pair, ...extra } }) }));
  return [graphqlRequest({ headers: { authorization: `Bearer ${readToken}` }, next: rotating(bodies) })];
}

/** The same pairs for the read floor's POST /access (bench/baselines/verify-floor.mjs). */
export function accessFloorRequests() {
  const bodies = accessPairs().map((variables) => ({ body: JSON.stringify(variables) }));
  return [{ ...graphqlRequest({ next: rotating(bodies) }), path: '/access' }];
}

/** `me` by signed-in users of the 10k organization (60 % have TOTP and recovery codes). */
export async function meRequests(signUserToken) {
  const random = prng(9);
  const items = [];
  for (let i = 0; i < POOL; i += 1) {
    const seq = 1 + Math.floor(random() * 10_000);
    items.push({
      body: JSON.stringify({ query: ME_QUERY }),
      headers: { authorization: `Bearer ${await signUserToken(userId('10k', seq))}` },
    });
  }
  return [graphqlRequest({ next: rotating(items) })];
}

export function organizationRequests(readToken, label, query = ORGANIZATION_QUERY) {
  return [
    graphqlRequest({
      headers: { authorization: `Bearer ${readToken}` },
      body: JSON.stringify({ query, variables: { id: organizationId(label) } }),
    }),
  ];
}

/** Any query with the read token, the same every time. */
export function readRequests(readToken, query, variables) {
  return [
    graphqlRequest({ headers: { authorization: `Bearer ${readToken}` }, body: JSON.stringify({ query, variables }) }),
  ];
}

export function typenameRequests() {
  return [graphqlRequest({ body: TYPENAME })];
}

/** One request before the load: that the answer is what the scenario means to measure. */
export async function checkOnce(url, requests) {
  const [request] = requests;
  const made = request.setupRequest
    ? request.setupRequest({ ...request, headers: { ...request.headers } }, {})
    : request;
  const response = await fetch(`${url}${made.path}`, {
    method: 'POST',
    headers: made.headers,
    body: made.body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text.length > 600 ? `${text.slice(0, 600)}…` : text, json: safeJson(text) };
}

function safeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
