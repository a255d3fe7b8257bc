// What the bench measures and judges, as data: one entry per scenario (its
// requests, when it runs, whether it is skipped, the answer it must give, and its
// targets), and the schedule of phases. run.mjs runs them; lib/targets.mjs
// judges them. Adding a scenario and its target is one entry in SCENARIOS.
//
// A scenario:
//   key       unique; also the measurement's key in the JSON
//   title     its row in the tables; name: how targets and other rows call it
//   phase     reads | logins | organizations | paced | single (see SCHEDULE), or
//             baseline (run where SCHEDULE names its key)
//   server    the process measured: service | apollo | mercurius | floor | traced
//             (traced: the service with tracing on, lib/tracing.mjs, running only during its passes)
//   requests  (ctx) => autocannon requests (may be async); ctx is built by run.mjs
//   options   measurement options: { connections: 1 } for a time-per-query pass
//   role      'reference' for floors and baselines: never judged, never "measured"
//   skip      (ctx) => a reason to skip it (shown in its row), or null
//   check     (json) => a problem with its answer, or null: one request before
//             its load; an answer GRAPHQL_VALIDATION_FAILED (the service does not
//             have the field or argument yet) skips it: "skipped: not implemented"
//   halfPeak  { floor }: also paced at half its peak rate, and the floor (a
//             scenario key) paced at that same rate right after
//   pacedAtHalfOf  a scenario key: paced at half that scenario's peak rate
//   during    (ctx) => { stop: async () => figures }: work started before its
//             measured pass and stopped after (e.g. a re-encryption running
//             under a verification load); the figures land in measurement.during
//   tracingOf a scenario key: the same pass on the traced service; its row shows
//             the ratio to that pass (tracing off) in the same run, and the spans
//             the OTLP receiver got (measured: no target)
//   targets   [{ id, kind, atLeast | atMost | below, ... }]: see KINDS in
//             lib/targets.mjs; `of` is the scenario itself unless given
import { accessRequests, ORGANIZATION_PHISHING_RESISTANT_QUERY, ORGANIZATION_QUERY } from './scenarios.mjs';
import { ALLOW_LIST_LABEL, countersFor, exemptCount, ORGANIZATION_SIZES, organizationId } from './seed.mjs';
import { validateTargets } from './targets.mjs';

/** The order of the run: bare Apollo between the groups, so drift shows and every ratio has a run on each side. */
export const SCHEDULE = [
  { run: 'apollo' },
  { run: 'mercurius' },
  { phase: 'reads' },
  { run: 'apollo' },
  { phase: 'logins' },
  { phase: 'organizations' },
  { run: 'apollo' },
  // Every scenario with halfPeak, in SCENARIOS order: its paced pass, then its floor paced alike.
  { halfPeak: true },
  { phase: 'paced' },
  { phase: 'single' },
  { run: 'apollo' },
];

const withReason = (json) => (json?.data?.organizationAccess?.reason ? null : 'no reason in the answer');
const loginSkip = (ctx) => ctx.loginSkip ?? null;
const tracingSkip = (ctx) => ctx.tracingSkip ?? null;

/** The organization page's answer, against the seeded counters. */
function organizationCheck(size) {
  const counters = countersFor(size.members);
  return (json) => {
    const org = json?.data?.organization;
    if (!org) return 'no organization in the answer';
    if (org.compliance.totalMembers !== size.members)
      return `totalMembers ${org.compliance.totalMembers}, seeded ${size.members}`;
    const without = counters.ownersWithout + counters.membersWithout;
    if (org.members.totalCount !== without)
      return `members totalCount ${org.members.totalCount}, seeded ${without} without two-factor`;
    if (org.members.edges.length !== 50) return `${org.members.edges.length} edges, wanted 50`;
    return null;
  };
}

function organizationPhishingResistantCheck(size) {
  const counters = countersFor(size.members);
  return (json) => {
    const org = json?.data?.organization;
    if (!org) return 'no organization in the answer';
    const withPr = counters.ownersWithPr + counters.membersWithPr;
    const withoutPr = counters.ownersWithoutPr + counters.membersWithoutPr;
    if (org.compliance.membersWithPhishingResistant !== withPr)
      return `membersWithPhishingResistant ${org.compliance.membersWithPhishingResistant}, seeded ${withPr}`;
    if (org.compliance.ownersWithoutPhishingResistant !== counters.ownersWithoutPr)
      return `ownersWithoutPhishingResistant ${org.compliance.ownersWithoutPhishingResistant}, seeded ${counters.ownersWithoutPr}`;
    if (org.members.totalCount !== withoutPr)
      return `members totalCount ${org.members.totalCount}, seeded ${withoutPr} without a WebAuthn credential`;
    if (org.members.edges.length !== 50) return `${org.members.edges.length} edges, wanted 50`;
    return null;
  };
}

/** The same page with the allow-list in force: only the listed model's keys count. */
function allowListCheck(size) {
  const counters = countersFor(size.members);
  return (json) => {
    const org = json?.data?.organization;
    if (!org) return 'no organization in the answer';
    const listed = counters.ownersWithListed + counters.membersWithListed;
    const owners = counters.ownersWith + counters.ownersWithout;
    if (org.compliance.totalMembers !== size.members)
      return `totalMembers ${org.compliance.totalMembers}, seeded ${size.members}`;
    if (org.compliance.membersWithPhishingResistant !== listed)
      return `membersWithPhishingResistant ${org.compliance.membersWithPhishingResistant}, seeded ${listed} with the listed model`;
    if (org.compliance.ownersWithoutPhishingResistant !== owners - counters.ownersWithListed)
      return `ownersWithoutPhishingResistant ${org.compliance.ownersWithoutPhishingResistant}, seeded ${owners - counters.ownersWithListed}`;
    if (org.members.totalCount !== size.members - listed)
      return `members totalCount ${org.members.totalCount}, seeded ${size.members - listed} without the listed model`;
    if (org.members.edges.length !== 50) return `${org.members.edges.length} edges, wanted 50`;
    return null;
  };
}

/** The preview's answer, against the seeded counters and exemptions (the exempt are all without two-factor). */
function previewCheck(size) {
  const counters = countersFor(size.members);
  const exempt = exemptCount(size.label, size.members);
  const affected = counters.ownersWithout + counters.membersWithout - exempt;
  return (json) => {
    const preview = json?.data?.previewTwoFactorRequirement;
    if (!preview) return 'no preview in the answer';
    if (preview.totalMembers !== size.members) return `totalMembers ${preview.totalMembers}, seeded ${size.members}`;
    if (preview.membersExempt !== exempt) return `membersExempt ${preview.membersExempt}, seeded ${exempt}`;
    if (preview.membersAffected !== affected) return `membersAffected ${preview.membersAffected}, seeded ${affected}`;
    if (preview.affectedMembers.edges.length !== 50) return `${preview.affectedMembers.edges.length} edges, wanted 50`;
    return null;
  };
}

const PREVIEW_QUERY = `query Preview($id: ID!) {
  previewTwoFactorRequirement(organizationId: $id) {
    totalMembers ownersBlockingCount membersAffected membersExempt
    affectedMembers(first: 50) { totalCount edges { node { user { id } } } }
  }
}`;

const size = (label) => ORGANIZATION_SIZES.find((candidate) => candidate.label === label);
const sizeName = (label) => (label === '1m' ? '1M' : label);

export const SCENARIOS = [
  {
    key: 'apollo',
    phase: 'baseline',
    server: 'apollo',
    title: 'bare Apollo Server 5 on Fastify 5, { __typename }',
    name: 'bare Apollo',
    role: 'reference',
    requests: (ctx) => ctx.typename(),
  },
  {
    key: 'mercurius',
    phase: 'baseline',
    server: 'mercurius',
    title: 'bare Mercurius 16 with JIT, { __typename }',
    name: 'bare Mercurius',
    role: 'reference',
    requests: (ctx) => ctx.typename(),
  },

  // Reads.
  {
    // Issue 27: the same pass with tracing on, just before the ordinary one (which is the pass with it off).
    key: 'access-traced',
    phase: 'reads',
    server: 'traced',
    title: 'organizationAccess (twofactor:read), peak, tracing on',
    name: 'organizationAccess, tracing on',
    tracingOf: 'access',
    requests: (ctx) => accessRequests(ctx.readToken),
    skip: tracingSkip,
  },
  {
    key: 'access',
    phase: 'reads',
    server: 'service',
    title: 'organizationAccess (twofactor:read), peak',
    name: 'organizationAccess',
    requests: (ctx) => accessRequests(ctx.readToken),
    check: withReason,
    halfPeak: { floor: 'access-floor' },
    targets: [
      { id: 'access-vs-read-floor', kind: 'ratioTo', to: 'access-floor', atLeast: 0.85 },
      { id: 'access-half-peak-p99', kind: 'halfPeakP99', atMost: 1.5 },
    ],
  },
  {
    key: 'access-floor',
    phase: 'reads',
    server: 'floor',
    title: "the read floor: organizationAccess's one SELECT on Fastify + mysql2, peak",
    name: 'the read floor',
    role: 'reference',
    requests: (ctx) => ctx.floorAccess(),
  },
  {
    // Added by the enforcement branch: judged per sign-in, still one indexed read.
    key: 'access-session-amr',
    phase: 'reads',
    server: 'service',
    title: 'organizationAccess with sessionAmr: ["pwd","otp"], peak',
    name: 'organizationAccess with sessionAmr',
    requests: (ctx) => accessRequests(ctx.readToken, { sessionAmr: ['pwd', 'otp'] }),
    check: withReason,
  },
  {
    key: 'me',
    phase: 'reads',
    server: 'service',
    title: 'me { twoFactor { enabled methods } }, peak',
    name: 'me',
    requests: (ctx) => ctx.me,
    check: (json) => (Array.isArray(json?.data?.me?.twoFactor?.methods) ? null : 'no methods in the answer'),
    halfPeak: { floor: 'access-floor' },
    targets: [
      { id: 'me-vs-apollo', kind: 'ratioToApollo', atLeast: 0.7 },
      { id: 'me-half-peak-p99', kind: 'halfPeakP99', atMost: 1.5 },
    ],
  },

  // Logins: each step measured on its own (lib/login.mjs); the durable floors beside them.
  {
    key: 'login-start',
    phase: 'logins',
    server: 'service',
    title: 'login step 1: startLoginChallenge, peak',
    name: 'startLoginChallenge',
    requests: (ctx) => ctx.login.startRequests(),
    skip: loginSkip,
    halfPeak: { floor: 'verify-floor' },
    targets: [
      { id: 'start-vs-apollo', kind: 'ratioToApollo', atLeast: 0.5 },
      { id: 'start-half-peak-p99', kind: 'halfPeakP99', atMost: 1.5 },
    ],
  },
  {
    // Issue 27: the same pass with tracing on, just before the ordinary one; it spends the same start pass's challenges.
    key: 'login-verify-traced',
    phase: 'logins',
    server: 'traced',
    title: 'login step 2: verifyLoginChallenge (TOTP), peak, tracing on',
    name: 'verifyLoginChallenge (TOTP), tracing on',
    tracingOf: 'login-verify',
    requests: (ctx) => ctx.login.verifyRequests(),
    skip: (ctx) => ctx.loginSkip ?? ctx.tracingSkip ?? null,
  },
  {
    key: 'login-verify',
    phase: 'logins',
    server: 'service',
    title: 'login step 2: verifyLoginChallenge (TOTP), peak',
    name: 'verifyLoginChallenge (TOTP)',
    requests: (ctx) => ctx.login.verifyRequests(),
    skip: loginSkip,
    halfPeak: { floor: 'verify-floor' },
    targets: [
      { id: 'verify-totp-vs-durable-floor', kind: 'ratioTo', to: 'verify-floor', atLeast: 0.6 },
      { id: 'verify-totp-half-peak-p99', kind: 'halfPeakP99', atMost: 1.5 },
      { id: 'verify-totp-cpu-service', kind: 'cpu', process: 'service', atMost: 700 },
      { id: 'verify-totp-cpu-mariadb', kind: 'cpu', process: 'mariadb', processName: 'MariaDB', atMost: 600 },
    ],
  },
  {
    key: 'verify-floor',
    phase: 'logins',
    server: 'floor',
    title: 'the durable floor: lock, conditional UPDATE, audit INSERT, COMMIT (5 round trips), peak',
    name: 'the durable floor',
    role: 'reference',
    requests: (ctx) => ctx.floorLoad.requests('/verify'),
    skip: loginSkip,
  },
  {
    // Context, not a target: what the same durable work costs in 2 round trips.
    key: 'verify-floor-2rt',
    phase: 'logins',
    server: 'floor',
    title: 'the same work in 2 round trips (multipleStatements: lock; then UPDATE, INSERT, COMMIT), peak',
    name: 'the durable floor in 2 round trips',
    role: 'reference',
    requests: (ctx) => ctx.floorLoad.requests('/verify-2rt'),
    skip: loginSkip,
  },
  {
    key: 'login-webauthn-start',
    phase: 'logins',
    server: 'service',
    title: 'login step 1 with webAuthnOptions, peak',
    name: 'startLoginChallenge with webAuthnOptions',
    requests: (ctx) => ctx.webAuthnLogin.startRequests(),
    skip: loginSkip,
  },
  {
    key: 'login-webauthn-verify',
    phase: 'logins',
    server: 'service',
    title: 'login step 2: verifyLoginChallenge with a security key, peak',
    name: 'verifyLoginChallenge with a security key',
    requests: (ctx) => ctx.webAuthnLogin.verifyRequests(),
    skip: loginSkip,
    halfPeak: { floor: 'verify-floor' },
    targets: [
      { id: 'verify-key-vs-durable-floor', kind: 'ratioTo', to: 'verify-floor', atLeast: 0.4 },
      { id: 'verify-key-half-peak-p99', kind: 'halfPeakP99', atMost: 1.5 },
    ],
  },
  {
    // One step and no code for the user; for the service an indexed query and a small transaction (the use, audited).
    key: 'login-device',
    phase: 'logins',
    server: 'service',
    title: 'start with a trusted device: startLoginChallenge(deviceToken), peak',
    name: 'startLoginChallenge(deviceToken)',
    requests: (ctx) => ctx.login.deviceStartRequests(),
    skip: (ctx) => ctx.loginSkip ?? ctx.deviceSkip ?? null,
    check: (json) =>
      json?.data?.startLoginChallenge?.assertion ? null : 'no assertion: the device did not skip the code',
    halfPeak: { floor: 'verify-floor' },
    targets: [
      { id: 'start-device-vs-durable-floor', kind: 'ratioTo', to: 'verify-floor', atLeast: 0.6 },
      { id: 'start-device-half-peak-p99', kind: 'halfPeakP99', atMost: 1.5 },
    ],
  },

  // The organization page (compliance + first page of members without two-factor), loaded.
  ...ORGANIZATION_SIZES.map((s) => ({
    key: `organization-${s.label}`,
    phase: 'organizations',
    server: 'service',
    title: `organization of ${sizeName(s.label)} members, 16 connections`,
    name: `the organization page (${sizeName(s.label)} members)`,
    requests: (ctx) => ctx.organization(s.label, ORGANIZATION_QUERY),
    check: organizationCheck(s),
    targets: [{ id: `organization-page-${s.label}-vs-apollo`, kind: 'ratioToApollo', atLeast: 0.3 }],
  })),
  {
    key: 'organization-pr-1m',
    phase: 'organizations',
    server: 'service',
    title: 'organization of 1M members, phishingResistant: false, 16 connections',
    name: 'the phishing-resistant organization page (1M members)',
    requests: (ctx) => ctx.organization('1m', ORGANIZATION_PHISHING_RESISTANT_QUERY),
    check: organizationPhishingResistantCheck(size('1m')),
  },

  {
    // Issue 26: re-encryption of a million TOTP secrets (npm run keys:rotate, the background job's code) while the
    // TOTP verification is paced at half its peak, as its half-peak pass was without it.
    key: 'login-verify-rotating',
    phase: 'paced',
    server: 'service',
    title:
      'login step 2: verifyLoginChallenge (TOTP) while a million TOTP secrets are re-encrypted, paced at half its peak',
    name: 'verifyLoginChallenge (TOTP) during re-encryption',
    pacedAtHalfOf: 'login-verify',
    requests: (ctx) => ctx.login.verifyRequests(),
    skip: (ctx) => ctx.loginSkip ?? ctx.rotationSkip ?? null,
    during: (ctx) => ctx.keyRotation(),
    targets: [
      { id: 'verify-totp-during-rotation-p99', kind: 'p99VsHalfPeak', to: 'login-verify', atMost: 1.5 },
      {
        id: 'rotation-rate',
        kind: 'during',
        figure: 'valuesPerSecond',
        unit: 'values/s',
        atLeast: 2_000,
        title: 'TOTP secrets re-encrypted a second meanwhile (a million in under 9 minutes)',
      },
    ],
  },

  // Paced references: what a paced pass costs on this machine without the service.
  {
    key: 'apollo-paced',
    phase: 'paced',
    server: 'apollo',
    title: "bare Apollo on Fastify, paced at organizationAccess's half-peak rate",
    name: 'bare Apollo paced',
    role: 'reference',
    pacedAtHalfOf: 'access',
    requests: (ctx) => ctx.typename(),
  },

  // Time per query (1 connection): growth with the organization's size.
  ...ORGANIZATION_SIZES.map((s) => ({
    key: `organization-${s.label}-single`,
    phase: 'single',
    server: 'service',
    title: `organization of ${sizeName(s.label)} members, 1 connection (time per query)`,
    name: `the organization page (${sizeName(s.label)} members, 1 connection)`,
    requests: (ctx) => ctx.organization(s.label, ORGANIZATION_QUERY),
    options: { connections: 1 },
    role: s.label === '1m' ? undefined : 'reference',
    targets:
      s.label === '1m'
        ? [
            { id: 'compliance-1m-p99', kind: 'latency', percentile: 'p99', below: 20 },
            {
              id: 'compliance-1m-p50-growth',
              kind: 'p50Growth',
              base: 'organization-10k-single',
              baseName: 'the 10k organization',
              below: 2,
            },
          ]
        : [],
  })),
  ...ORGANIZATION_SIZES.map((s) => ({
    key: `organization-pr-${s.label}-single`,
    phase: 'single',
    server: 'service',
    title: `organization of ${sizeName(s.label)} members, phishingResistant: false, 1 connection`,
    name: `the phishing-resistant organization page (${sizeName(s.label)} members, 1 connection)`,
    requests: (ctx) => ctx.organization(s.label, ORGANIZATION_PHISHING_RESISTANT_QUERY),
    options: { connections: 1 },
    check: organizationPhishingResistantCheck(s),
    role: s.label === '1m' ? undefined : 'reference',
    targets:
      s.label === '1m'
        ? [
            { id: 'compliance-pr-1m-p99', kind: 'latency', percentile: 'p99', below: 20 },
            {
              id: 'compliance-pr-1m-p50-growth',
              kind: 'p50Growth',
              base: 'organization-pr-10k-single',
              baseName: 'the 10k organization',
              below: 2,
            },
          ]
        : [],
  })),
  {
    // Added by the authenticator-policy branch (issue 25): the same page with an allow-list in force, where the
    // keys counted are judged per key set against the policy and the blob (docs/adr/0021-key-sets.md).
    key: 'organization-pr-1m-allow-list-single',
    phase: 'single',
    server: 'service',
    title: 'organization of 1M members with an allow-list in force, phishingResistant: false, 1 connection',
    name: 'the phishing-resistant organization page, allow-list in force (1M members, 1 connection)',
    requests: (ctx) => ctx.organization(ALLOW_LIST_LABEL, ORGANIZATION_PHISHING_RESISTANT_QUERY),
    options: { connections: 1 },
    check: allowListCheck(size('1m')),
    targets: [
      { id: 'compliance-allow-list-1m-p99', kind: 'latency', percentile: 'p99', below: 20 },
      {
        id: 'compliance-allow-list-1m-p50-growth',
        kind: 'p50Growth',
        base: 'organization-pr-10k-single',
        baseName: 'the 10k organization',
        below: 2,
      },
    ],
  },
  {
    // Added by the enforcement branch: exact and index-backed at a million members.
    key: 'enforcement-preview-1m-single',
    phase: 'single',
    server: 'service',
    title: 'previewTwoFactorRequirement at 1M members, 1 connection',
    name: 'the enforcement preview (1M members)',
    requests: (ctx) => ctx.graphql(PREVIEW_QUERY, { id: organizationId('1m') }),
    options: { connections: 1 },
    check: previewCheck(size('1m')),
  },
];

/** Targets of the whole run, not of one pass; shown as rows of their own. */
export const RUN_TARGETS = [
  {
    id: 'service-rss',
    kind: 'run',
    figure: 'serviceRssMb',
    unit: 'MB',
    below: 250,
    row: 'rss',
    title: "the service's peak RSS (VmHWM)",
  },
  {
    id: 'bench-duration',
    kind: 'run',
    figure: 'benchSeconds',
    unit: 's',
    below: 600,
    row: 'duration',
    title: 'the bench run (`npm run bench`, build included)',
  },
];

/**
 * BENCH_ONLY's group keys: `tracing` is the passes with tracing on and those they
 * are compared with (and the start pass whose challenges the verifications spend).
 */
export const GROUPS = {
  tracing: ['access-traced', 'access', 'login-start', 'login-verify-traced', 'login-verify'],
};

/** Whether a scenario's requests need the seeded organizations (a BENCH_ONLY run without them skips that seeding). */
export const usesOrganizations = (s) => ['reads', 'organizations', 'single'].includes(s.phase);

const scenarioByKey = new Map(SCENARIOS.map((scenario) => [scenario.key, scenario]));
export const scenario = (key) => scenarioByKey.get(key);

const nameOf = (key) => scenarioByKey.get(key)?.name ?? key;

/** A target's title from its kind, unless it has one. */
function titled(target, owner) {
  if (target.title) return target.title;
  const name = owner.name;
  switch (target.kind) {
    case 'ratioToApollo':
      return `${name}: peak req/s ÷ bare Apollo's`;
    case 'ratioTo':
      return `${name}: peak req/s ÷ ${target.toName}'s`;
    case 'halfPeakP99':
      return `${name}: p99 at half its peak ÷ ${target.floorName}'s paced alike`;
    case 'cpu':
      return `${name}: ${target.processName ?? target.process} CPU per request`;
    case 'latency':
      return `${name}: ${target.percentile}`;
    case 'p50Growth':
      return `${name}: p50 ÷ ${target.baseName}'s`;
    case 'p99VsHalfPeak':
      return `${name}: p99 ÷ ${target.toName}'s at half its peak`;
    default:
      return target.id;
  }
}

/** Every target, with `of` (its scenario), the names it compares with, its title, and the row it shows on. */
export function allTargets(scenarios = SCENARIOS, runTargets = RUN_TARGETS) {
  const targets = [];
  for (const owner of scenarios) {
    for (const target of owner.targets ?? []) {
      const full = { of: owner.key, ...target };
      if (target.kind === 'halfPeakP99') {
        if (!owner.halfPeak) throw new Error(`target ${target.id}: ${owner.key} has no halfPeak`);
        full.floor = owner.halfPeak.floor;
        full.floorName = nameOf(full.floor);
        full.row ??= `${owner.key}-half`;
      }
      if (target.to) full.toName ??= nameOf(target.to);
      if (target.base) full.baseName ??= nameOf(target.base);
      full.title = titled(full, owner);
      targets.push(full);
    }
  }
  return validateTargets([...targets, ...runTargets]);
}

/** Checks the plan's references once (a typo in a key fails the run at its start, not at its end). */
export function validatePlan(scenarios = SCENARIOS, schedule = SCHEDULE) {
  const keys = new Set();
  for (const s of scenarios) {
    if (keys.has(s.key)) throw new Error(`two scenarios with the key ${s.key}`);
    keys.add(s.key);
  }
  for (const s of scenarios) {
    for (const ref of [
      s.halfPeak?.floor,
      s.pacedAtHalfOf,
      s.tracingOf,
      ...(s.targets ?? []).flatMap((t) => [t.to, t.base]),
    ]) {
      if (ref !== undefined && !keys.has(ref)) throw new Error(`scenario ${s.key} refers to ${ref}, which is not one`);
    }
  }
  for (const [group, members] of Object.entries(GROUPS)) {
    if (keys.has(group)) throw new Error(`the group ${group} is also a scenario key`);
    for (const key of members) if (!keys.has(key)) throw new Error(`the group ${group} names ${key}, which is not one`);
  }
  for (const item of schedule) {
    if (item.run && !keys.has(item.run)) throw new Error(`the schedule runs ${item.run}, which is not a scenario`);
  }
  allTargets(scenarios);
  return true;
}
