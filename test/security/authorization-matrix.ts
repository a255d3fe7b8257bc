/**
 * The authorization matrix: every operation of the API (rows) against every kind
 * of caller (columns), with what each caller gets. One table, used by
 * authorization-matrix.test.ts, which checks each cell against the running
 * service, checks that every Query and Mutation field of the schema has a row,
 * and checks that SECURITY.md shows this same table (`renderMatrixTable()`).
 *
 * The cast, made afresh for each row so that rows never meet:
 * - the org: an organization with the user and another member as MEMBERs and
 *   an owner as OWNER; the user and the owner each have a security key (a
 *   software authenticator) and TOTP;
 * - self: the user, the operation's target where it names a user (and a member
 *   of the org);
 * - another user: signed in, in no organization;
 * - member: another MEMBER of the org;
 * - owner: an OWNER of the org (and so of the user's organization);
 * - each scope alone: a service subject whose token holds that one scope and
 *   that belongs to no organization.
 */

export const CALLER_KINDS = [
  'anonymous',
  'self',
  'otherUser',
  'member',
  'owner',
  'read',
  'login',
  'directory',
  'admin',
] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];

export const CALLER_TITLES: Record<CallerKind, string> = {
  anonymous: 'anonymous',
  self: 'the user (self)',
  otherUser: 'another user',
  member: 'member',
  owner: 'owner',
  read: '`twofactor:read`',
  login: '`twofactor:login`',
  directory: '`twofactor:directory`',
  admin: '`twofactor:admin`',
};

/**
 * - allowed: not refused for who the caller is (the answer may still be a
 *   domain error such as BAD_USER_INPUT, NOT_ENROLLED or INVALID_CODE);
 * - self only: allowed, and it acts on or shows the caller's own subject only
 *   (no argument can name anyone else);
 * - FORBIDDEN / UNAUTHENTICATED: refused with that code, changing nothing;
 * - null: answered with null and no error, as for something that does not exist.
 */
export type Outcome = 'allowed' | 'self only' | 'FORBIDDEN' | 'UNAUTHENTICATED' | 'null';

/** The cast of one row: ids and tokens, and a few helpers. */
export interface Fixture {
  ids: Record<Exclude<CallerKind, 'anonymous'>, string>;
  tokens: Record<CallerKind, string | undefined>;
  organizationId: string;
  unknownOrganizationId: string;
  /** The credential id of each caller's security key: the user's and the owner's. */
  keys: Partial<Record<CallerKind, string>>;
  /** The user's remembered browser (trusted device): its token and its id. */
  deviceToken: string;
  trustedDeviceId: string;
  /** A fresh login challenge for the user. */
  openChallenge(): Promise<string>;
  /** A fresh login challenge for the user, and the user's key's answer to its webAuthnOptions. */
  openChallengeAnsweredByKey(): Promise<{ id: string; answer: unknown }>;
  /** The caller's key's answer to a fresh startWebAuthnStepUp of its own; null for a caller without a key. */
  stepUpWithKey(caller: CallerKind): Promise<unknown>;
  /**
   * A new authenticator's answer to a startWebAuthnRegistration of the caller's own
   * (stepping up with its key when it has one); a placeholder for anonymous.
   */
  registrationResponse(caller: CallerKind): Promise<unknown>;
}

export interface GqlAnswer {
  status: number;
  data: any;
  errors?: { message: string; extensions?: Record<string, any>; path?: (string | number)[] }[];
}

export interface MatrixRow {
  /** The case, as SECURITY.md shows it. */
  name: string;
  /** The root field (Query or Mutation) it exercises. */
  operation: string;
  document: string;
  variables?: (fixture: Fixture, caller: CallerKind) => Record<string, unknown> | Promise<Record<string, unknown>>;
  expected: Record<CallerKind, Outcome>;
  /** Checks what an allowed cell shows (visibility); returns a problem, or undefined. */
  check?: (answer: GqlAnswer, caller: CallerKind, fixture: Fixture) => string | undefined;
}

/** `anonymous` UNAUTHENTICATED, the callers named as given, every other caller `otherwise`. */
function cells(given: Partial<Record<CallerKind, Outcome>>, otherwise: Outcome): Record<CallerKind, Outcome> {
  const row = {} as Record<CallerKind, Outcome>;
  for (const kind of CALLER_KINDS) row[kind] = given[kind] ?? (kind === 'anonymous' ? 'UNAUTHENTICATED' : otherwise);
  return row;
}

const SELF_SERVICE = cells({}, 'self only');
const EVERYONE = cells({ anonymous: 'allowed' }, 'allowed');

const target = (fixture: Fixture) => fixture.ids.self;
const subjectOf = (fixture: Fixture, caller: CallerKind) => (caller === 'anonymous' ? undefined : fixture.ids[caller]);

/** An audit list shows clientIp to twofactor:read, and to a user only for its own actions. */
function clientIpVisibility(answer: GqlAnswer, caller: CallerKind, fixture: Fixture): string | undefined {
  const nodes: { actorId: string | null; clientIp: string | null; action: string }[] =
    answer.data?.auditEvents?.edges?.map((edge: any) => edge.node) ?? [];
  if (nodes.length === 0) return 'expected some events';
  for (const node of nodes) {
    const own = node.actorId === subjectOf(fixture, caller);
    if (caller === 'read' && !node.clientIp) return `twofactor:read should see clientIp of ${node.action}`;
    if (caller !== 'read' && !own && node.clientIp !== null)
      return `clientIp of ${node.action} by ${node.actorId} should be null for ${caller}`;
  }
  return undefined;
}

function onlyAbout(userId: string, answer: GqlAnswer): string | undefined {
  const nodes: { userId: string | null }[] = answer.data?.auditEvents?.edges?.map((edge: any) => edge.node) ?? [];
  const stray = nodes.find((node) => node.userId !== userId);
  return stray ? `shows an event about ${stray.userId}` : undefined;
}

/** A time `days` ahead of now (the matrix's app keeps its clock at the wall clock's). */
const inDays = (days: number) => new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString();

const AUDIT_NODE = 'edges { node { action userId organizationId actorId clientIp } }';
const WRONG_CODE = '000000';

export const MATRIX: MatrixRow[] = [
  // ---- reading users
  {
    name: '`me`',
    operation: 'me',
    document: '{ me { id twoFactor { enabled } } }',
    expected: SELF_SERVICE,
    check: (answer, caller, fixture) =>
      answer.data.me.id === subjectOf(fixture, caller) ? undefined : `me is ${answer.data.me.id}`,
  },
  {
    name: '`user(id: the user)`',
    operation: 'user',
    document:
      'query($id: ID!) { user(id: $id) { id twoFactor { enabled locked recoveryCodesRemaining } memberships { role } } }',
    variables: (fixture) => ({ id: target(fixture) }),
    expected: cells({ self: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
    check: (answer) =>
      answer.data.user.twoFactor.recoveryCodesRemaining === 10 && answer.data.user.memberships.length === 1
        ? undefined
        : 'should see the whole status and memberships',
  },
  {
    name: '`user(id: the user) { twoFactor { trustedDevices } }`',
    operation: 'user',
    document: 'query($id: ID!) { user(id: $id) { id twoFactor { trustedDevices { id name expiresAt } } } }',
    variables: (fixture) => ({ id: target(fixture) }),
    expected: cells({ self: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
    check: (answer, _caller, fixture) =>
      answer.data.user.twoFactor.trustedDevices[0]?.id === fixture.trustedDeviceId
        ? undefined
        : 'should list the remembered browser',
  },
  {
    name: '`users(ids: [the user])`',
    operation: 'users',
    document: 'query($ids: [ID!]!) { users(ids: $ids) { id twoFactor { enabled } } }',
    variables: (fixture) => ({ ids: [target(fixture)] }),
    expected: cells({ read: 'allowed' }, 'FORBIDDEN'),
  },
  // ---- reading organizations
  {
    name: '`organization(id: the org) { id name requiresTwoFactor }`',
    operation: 'organization',
    document: 'query($id: ID!) { organization(id: $id) { id name requiresTwoFactor } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'allowed', member: 'allowed', owner: 'allowed', read: 'allowed' }, 'null'),
    check: (answer, _caller, fixture) =>
      answer.data.organization?.id === fixture.organizationId ? undefined : 'should see the organization',
  },
  {
    name: '`organization(id: an unknown id)`',
    operation: 'organization',
    document: 'query($id: ID!) { organization(id: $id) { id } }',
    variables: (fixture) => ({ id: fixture.unknownOrganizationId }),
    expected: cells({}, 'null'),
  },
  {
    name: '`organization { compliance }`',
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id compliance { totalMembers ownersWithoutTwoFactor compliant } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'allowed', read: 'allowed' }, 'null'),
    check: (answer) => (answer.data.organization.compliance.totalMembers === 3 ? undefined : 'should count 3 members'),
  },
  {
    name: '`organization { members { role twoFactorEnabled twoFactorMethods user { id twoFactor { enabled methods } } } }`',
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id members(first: 10) { totalCount edges { node { role twoFactorEnabled twoFactorMethods user { id twoFactor { enabled methods } } } } } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'allowed', read: 'allowed' }, 'null'),
    check: (answer, _caller, fixture) => {
      const members = answer.data.organization.members;
      if (members.totalCount !== 3 || members.edges.length !== 3) return 'should list 3 members';
      const user = members.edges.find((edge: any) => edge.node.user.id === target(fixture))?.node;
      return JSON.stringify(user?.twoFactorMethods) === '["TOTP","WEBAUTHN"]'
        ? undefined
        : `the user's twoFactorMethods: ${JSON.stringify(user?.twoFactorMethods)}`;
    },
  },
  {
    name: "a member's other fields: `members { … user { twoFactor { locked recoveryCodesRemaining } } }`",
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id members(first: 10) { edges { node { user { id twoFactor { locked recoveryCodesRemaining } } } } } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'FORBIDDEN', read: 'allowed' }, 'null'),
  },
  {
    name: "a member's keys: `members { … user { twoFactor { phishingResistant webAuthnCredentials { name } } } }`",
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id members(first: 10) { edges { node { user { id twoFactor { phishingResistant webAuthnCredentials { name } } } } } } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'FORBIDDEN', read: 'allowed' }, 'null'),
    check: (answer, _caller, fixture) => {
      const user = answer.data.organization.members.edges.find((edge: any) => edge.node.user.id === target(fixture));
      return user?.node.user.twoFactor.phishingResistant === true &&
        user.node.user.twoFactor.webAuthnCredentials.length === 1
        ? undefined
        : "should see the user's key";
    },
  },
  {
    name: "a member's organizations: `members { … user { memberships } }`",
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id members(first: 10) { edges { node { user { id memberships { role } } } } } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'FORBIDDEN', read: 'allowed' }, 'null'),
  },
  {
    name: "a member's trusted devices: `members { … user { twoFactor { trustedDevices } } }`",
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id members(first: 10) { edges { node { user { id twoFactor { trustedDevices { id } } } } } } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'FORBIDDEN', read: 'allowed' }, 'null'),
  },
  {
    name: '`organizationAccess(the org, the user)`',
    operation: 'organizationAccess',
    document: 'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u) { allowed reason } }',
    variables: (fixture) => ({ o: fixture.organizationId, u: target(fixture) }),
    expected: cells({ read: 'allowed' }, 'FORBIDDEN'),
    check: (answer) =>
      answer.data.organizationAccess.reason === 'OK' ? undefined : `reason ${answer.data.organizationAccess.reason}`,
  },
  {
    name: '`organizationAccess(the org, the user, sessionAmr)`',
    operation: 'organizationAccess',
    document:
      'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: ["pwd", "hwk"]) { allowed reason } }',
    variables: (fixture) => ({ o: fixture.organizationId, u: target(fixture) }),
    expected: cells({ read: 'allowed' }, 'FORBIDDEN'),
    check: (answer) =>
      answer.data.organizationAccess.reason === 'OK' ? undefined : `reason ${answer.data.organizationAccess.reason}`,
  },
  // ---- requiring two-factor as a lifecycle: the preview, exemptions
  {
    name: '`previewTwoFactorRequirement(the org)`',
    operation: 'previewTwoFactorRequirement',
    document:
      'query($o: ID!) { previewTwoFactorRequirement(organizationId: $o, phishingResistant: true) { totalMembers ownersBlocking membersAffected affectedMembers(first: 10) { totalCount edges { node { user { id } } } } } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
    // The user and the owner have keys; the other member has none.
    check: (answer) => {
      const preview = answer.data.previewTwoFactorRequirement;
      return preview.totalMembers === 3 && preview.ownersBlocking.length === 0 && preview.membersAffected === 1
        ? undefined
        : `preview ${JSON.stringify(preview)}`;
    },
  },
  {
    name: '`previewTwoFactorRequirement(an unknown id)`',
    operation: 'previewTwoFactorRequirement',
    document: 'query($o: ID!) { previewTwoFactorRequirement(organizationId: $o) { totalMembers } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`organization { twoFactorExemptions compliance { membersExempt } members { exemptUntil } }`',
    operation: 'organization',
    document:
      'query($id: ID!) { organization(id: $id) { id twoFactorExemptions { totalCount } compliance { membersExempt } members(first: 10) { edges { node { exemptUntil } } } } }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ self: 'FORBIDDEN', member: 'FORBIDDEN', owner: 'allowed', read: 'allowed' }, 'null'),
  },
  {
    name: '`user(id: the user) { memberships { exemptUntil } }`',
    operation: 'user',
    document: 'query($id: ID!) { user(id: $id) { id memberships { role exemptUntil } } }',
    variables: (fixture) => ({ id: target(fixture) }),
    expected: cells({ self: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`exemptFromTwoFactor(the org, the user, until, reason)`',
    operation: 'exemptFromTwoFactor',
    document:
      'mutation($o: ID!, $u: ID!, $t: DateTimeISO!) { exemptFromTwoFactor(organizationId: $o, userId: $u, until: $t, reason: "On leave") { userId endsAt } }',
    variables: (fixture) => ({ o: fixture.organizationId, u: target(fixture), t: inDays(7) }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`exemptFromTwoFactor(an unknown id, the user, until, reason)`',
    operation: 'exemptFromTwoFactor',
    document:
      'mutation($o: ID!, $u: ID!, $t: DateTimeISO!) { exemptFromTwoFactor(organizationId: $o, userId: $u, until: $t, reason: "On leave") { userId } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId, u: target(fixture), t: inDays(7) }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`endTwoFactorExemption(the org, the user)`',
    operation: 'endTwoFactorExemption',
    document: 'mutation($o: ID!, $u: ID!) { endTwoFactorExemption(organizationId: $o, userId: $u) }',
    variables: (fixture) => ({ o: fixture.organizationId, u: target(fixture) }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`endTwoFactorExemption(an unknown id, the user)`',
    operation: 'endTwoFactorExemption',
    document: 'mutation($o: ID!, $u: ID!) { endTwoFactorExemption(organizationId: $o, userId: $u) }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId, u: target(fixture) }),
    expected: cells({}, 'FORBIDDEN'),
  },
  // ---- audit events
  {
    name: '`auditEvents` (no filter)',
    operation: 'auditEvents',
    document: `{ auditEvents(first: 100) { ${AUDIT_NODE} } }`,
    expected: cells({ read: 'allowed' }, 'self only'),
    check: (answer, caller, fixture) =>
      caller === 'read' ? undefined : onlyAbout(fixture.ids[caller as Exclude<CallerKind, 'anonymous'>], answer),
  },
  {
    name: '`auditEvents(userId: the user)`',
    operation: 'auditEvents',
    document: `query($u: ID) { auditEvents(userId: $u, first: 100) { ${AUDIT_NODE} } }`,
    variables: (fixture) => ({ u: target(fixture) }),
    expected: cells({ self: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
    check: clientIpVisibility,
  },
  {
    name: '`auditEvents(organizationId: the org)`',
    operation: 'auditEvents',
    document: `query($o: ID) { auditEvents(organizationId: $o, first: 100) { ${AUDIT_NODE} } }`,
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
    check: clientIpVisibility,
  },
  {
    name: '`auditEvents(userId: the user, organizationId: the org)`',
    operation: 'auditEvents',
    document: `query($u: ID, $o: ID) { auditEvents(userId: $u, organizationId: $o, first: 100) { ${AUDIT_NODE} } }`,
    variables: (fixture) => ({ u: target(fixture), o: fixture.organizationId }),
    expected: cells({ self: 'allowed', owner: 'allowed', read: 'allowed' }, 'FORBIDDEN'),
    check: clientIpVisibility,
  },
  // ---- a user's own second factors (each token acts for its own subject)
  {
    name: '`startTotpSetup`',
    operation: 'startTotpSetup',
    document: 'mutation { startTotpSetup { otpauthUri } }',
    expected: SELF_SERVICE,
    check: (answer, caller, fixture) => {
      const uri = answer.data?.startTotpSetup?.otpauthUri;
      return uri === undefined || decodeURIComponent(uri).includes(`:${subjectOf(fixture, caller)}?`)
        ? undefined
        : `set up for another account: ${uri}`;
    },
  },
  {
    name: '`confirmTotpSetup(code)`',
    operation: 'confirmTotpSetup',
    document: 'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  {
    name: '`startSmsSetup(phoneNumber)`',
    operation: 'startSmsSetup',
    document: 'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }',
    // One number per caller: the per-number send limits stay out of the way.
    variables: (_fixture, caller) => ({ p: `+1415555${2600 + CALLER_KINDS.indexOf(caller)}` }),
    expected: SELF_SERVICE,
  },
  {
    name: '`confirmSmsSetup(code)`',
    operation: 'confirmSmsSetup',
    document: 'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  {
    name: '`sendSmsCode`',
    operation: 'sendSmsCode',
    document: 'mutation { sendSmsCode { phoneNumberMasked } }',
    expected: SELF_SERVICE,
  },
  {
    name: '`viewRecoveryCodes(code)`',
    operation: 'viewRecoveryCodes',
    document: 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  {
    name: '`regenerateRecoveryCodes(code)`',
    operation: 'regenerateRecoveryCodes',
    document: 'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { generatedAt } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  {
    name: '`removeTotp(code)`',
    operation: 'removeTotp',
    document: 'mutation($c: String!) { removeTotp(code: $c) { enabled } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  {
    name: '`removeSms(code)`',
    operation: 'removeSms',
    document: 'mutation($c: String!) { removeSms(code: $c) { enabled } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  {
    name: '`disableTwoFactor(code)`',
    operation: 'disableTwoFactor',
    document: 'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
    variables: () => ({ c: WRONG_CODE }),
    expected: SELF_SERVICE,
  },
  // ---- a user's own security keys and passkeys (WebAuthn)
  {
    name: '`startWebAuthnStepUp`',
    operation: 'startWebAuthnStepUp',
    document: 'mutation { startWebAuthnStepUp { options expiresAt } }',
    expected: SELF_SERVICE,
    // Only callers with a key get options (the others NOT_ENROLLED): options naming that caller's key alone.
    check: (answer, caller, fixture) => {
      const allowed = answer.data.startWebAuthnStepUp.options.allowCredentials.map((c: { id: string }) => c.id);
      return JSON.stringify(allowed) === JSON.stringify([fixture.keys[caller]])
        ? undefined
        : `options name ${JSON.stringify(allowed)}`;
    },
  },
  {
    name: '`startWebAuthnRegistration(webAuthn)`',
    operation: 'startWebAuthnRegistration',
    document: 'mutation($w: JSON) { startWebAuthnRegistration(webAuthn: $w) { options expiresAt } }',
    // A step-up with the caller's own key where it has one; a first factor needs none.
    variables: async (fixture, caller) => ({ w: await fixture.stepUpWithKey(caller) }),
    expected: SELF_SERVICE,
    check: (answer, caller, fixture) => {
      const { user, excludeCredentials } = answer.data.startWebAuthnRegistration.options;
      const excluded = JSON.stringify(excludeCredentials.map((c: { id: string }) => c.id));
      const own = JSON.stringify(fixture.keys[caller] ? [fixture.keys[caller]] : []);
      return user.name === subjectOf(fixture, caller) && excluded === own
        ? undefined
        : `options for ${user.name}, excluding ${excluded}`;
    },
  },
  {
    name: '`confirmWebAuthnRegistration(response)`',
    operation: 'confirmWebAuthnRegistration',
    document:
      'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r) { recoveryCodes status { methods webAuthnCredentials { id } } } }',
    // A real registration of the caller's own, answered by a new authenticator.
    variables: async (fixture, caller) => ({ r: await fixture.registrationResponse(caller) }),
    expected: SELF_SERVICE,
    check: (answer, caller, fixture) => {
      const { recoveryCodes, status } = answer.data.confirmWebAuthnRegistration;
      const had = fixture.keys[caller] !== undefined;
      const methods = JSON.stringify(status.methods);
      if (methods !== (had ? '["TOTP","WEBAUTHN"]' : '["WEBAUTHN"]')) return `bound to an account with ${methods}`;
      if (status.webAuthnCredentials.length !== (had ? 2 : 1)) return 'should list the new key beside its own';
      return (recoveryCodes === null) === had ? undefined : 'recovery codes only for a first factor';
    },
  },
  {
    name: "`renameWebAuthnCredential(id: the user's key, name)`",
    operation: 'renameWebAuthnCredential',
    document: 'mutation($id: ID!, $n: String!) { renameWebAuthnCredential(id: $id, name: $n) { id name } }',
    // Anyone else renaming the user's key: NOT_FOUND (no key of theirs has that id).
    variables: (fixture) => ({ id: fixture.keys.self, n: 'Renamed key' }),
    expected: SELF_SERVICE,
    check: (answer, caller) =>
      caller === 'self' && answer.data.renameWebAuthnCredential.name === 'Renamed key'
        ? undefined
        : `${caller} renamed the user's key`,
  },
  {
    name: "`removeWebAuthnCredential(id: the user's key, webAuthn)`",
    operation: 'removeWebAuthnCredential',
    document: 'mutation($id: ID!, $w: JSON) { removeWebAuthnCredential(id: $id, webAuthn: $w) { enabled methods } }',
    // Each caller steps up with its own key where it has one; the id is the user's key.
    variables: async (fixture, caller) => ({ id: fixture.keys.self, w: await fixture.stepUpWithKey(caller) }),
    expected: SELF_SERVICE,
    check: (answer, caller) =>
      caller === 'self' && JSON.stringify(answer.data.removeWebAuthnCredential.methods) === '["TOTP"]'
        ? undefined
        : `${caller} removed the user's key`,
  },
  // ---- logging in
  {
    name: '`startLoginChallenge(userId: the user)`',
    operation: 'startLoginChallenge',
    document: 'mutation($u: ID!) { startLoginChallenge(userId: $u) { id userId methods webAuthnOptions } }',
    variables: (fixture) => ({ u: target(fixture) }),
    expected: cells({ login: 'allowed' }, 'FORBIDDEN'),
    check: (answer, _caller, fixture) => {
      const challenge = answer.data.startLoginChallenge;
      if (challenge.userId !== target(fixture)) return 'a challenge for someone else';
      const allowed = challenge.webAuthnOptions?.allowCredentials?.map((c: { id: string }) => c.id);
      return JSON.stringify(allowed) === JSON.stringify([fixture.keys.self])
        ? undefined
        : `webAuthnOptions name ${JSON.stringify(allowed)}`;
    },
  },
  {
    name: "`startLoginChallenge(userId: the user, deviceToken: the user's)`",
    operation: 'startLoginChallenge',
    document:
      'mutation($u: ID!, $d: String) { startLoginChallenge(userId: $u, deviceToken: $d) { id userId assertion } }',
    variables: (fixture) => ({ u: target(fixture), d: fixture.deviceToken }),
    expected: cells({ login: 'allowed' }, 'FORBIDDEN'),
    check: (answer) => (answer.data.startLoginChallenge.assertion ? undefined : 'the device should skip the code'),
  },
  {
    name: '`sendLoginSmsCode(challengeId)` (the challenge id is the credential)',
    operation: 'sendLoginSmsCode',
    document: 'mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }',
    variables: async (fixture) => ({ id: await fixture.openChallenge() }),
    expected: EVERYONE,
  },
  {
    name: '`verifyLoginChallenge(challengeId, code)` (the challenge id is the credential)',
    operation: 'verifyLoginChallenge',
    document: 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { assertion } }',
    variables: async (fixture) => ({ id: await fixture.openChallenge(), c: WRONG_CODE }),
    expected: EVERYONE,
  },
  {
    name: '`verifyLoginChallenge(challengeId, webAuthn)` (the challenge id is the credential)',
    operation: 'verifyLoginChallenge',
    document:
      'mutation($id: ID!, $w: JSON) { verifyLoginChallenge(challengeId: $id, webAuthn: $w) { userId method assertion } }',
    // The user's key answering the challenge's webAuthnOptions: whoever holds the id gets the assertion.
    variables: async (fixture) => {
      const { id, answer } = await fixture.openChallengeAnsweredByKey();
      return { id, w: answer };
    },
    expected: EVERYONE,
    check: (answer, _caller, fixture) =>
      answer.data.verifyLoginChallenge.userId === target(fixture) &&
      answer.data.verifyLoginChallenge.method === 'WEBAUTHN'
        ? undefined
        : `verified ${JSON.stringify(answer.data.verifyLoginChallenge)}`,
  },
  {
    name: '`verifyLoginChallenge(challengeId, code, rememberDevice: true)`',
    operation: 'verifyLoginChallenge',
    document:
      'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c, rememberDevice: true, deviceName: "Phone") { deviceToken } }',
    variables: async (fixture) => ({ id: await fixture.openChallenge(), c: WRONG_CODE }),
    expected: EVERYONE,
  },
  // ---- a user's own trusted devices
  {
    name: "`revokeTrustedDevice(id: the user's device)`",
    operation: 'revokeTrustedDevice',
    document: 'mutation($id: ID!) { revokeTrustedDevice(id: $id) }',
    variables: (fixture) => ({ id: fixture.trustedDeviceId }),
    expected: SELF_SERVICE,
    check: (answer, caller) =>
      answer.data.revokeTrustedDevice === (caller === 'self') ? undefined : 'only the user revokes its device',
  },
  {
    name: '`revokeAllTrustedDevices`',
    operation: 'revokeAllTrustedDevices',
    document: 'mutation { revokeAllTrustedDevices }',
    expected: SELF_SERVICE,
    check: (answer, caller) =>
      answer.data.revokeAllTrustedDevices === (caller === 'self' ? 1 : 0) ? undefined : 'revoked others’ devices',
  },
  // ---- owners' policy
  {
    name: '`requireTwoFactor(organizationId: the org)`',
    operation: 'requireTwoFactor',
    document: 'mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 7) { id requiresTwoFactor } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`requireTwoFactor(organizationId: an unknown id)`',
    operation: 'requireTwoFactor',
    document: 'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`requirePhishingResistantTwoFactor(organizationId: the org)`',
    operation: 'requirePhishingResistantTwoFactor',
    document:
      'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o, gracePeriodDays: 7) { id requiresPhishingResistantTwoFactor } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
    // The owner has a key, so the policy is on.
    check: (answer) =>
      answer.data.requirePhishingResistantTwoFactor.requiresPhishingResistantTwoFactor === true
        ? undefined
        : 'the policy should be on',
  },
  {
    name: '`requirePhishingResistantTwoFactor(organizationId: an unknown id)`',
    operation: 'requirePhishingResistantTwoFactor',
    document: 'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o) { id } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`setAuthenticatorPolicy(organizationId: the org)`',
    operation: 'setAuthenticatorPolicy',
    document:
      'mutation($o: ID!) { setAuthenticatorPolicy(organizationId: $o, allowedAaguids: [], requireDeviceBound: false) { id authenticatorPolicy { requireDeviceBound } } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`setAuthenticatorPolicy(organizationId: an unknown id)`',
    operation: 'setAuthenticatorPolicy',
    document:
      'mutation($o: ID!) { setAuthenticatorPolicy(organizationId: $o, allowedAaguids: [], requireDeviceBound: false) { id } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`stopRequiringTwoFactor(organizationId: the org)`',
    operation: 'stopRequiringTwoFactor',
    document: 'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id requiresTwoFactor } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`stopRequiringTwoFactor(organizationId: an unknown id)`',
    operation: 'stopRequiringTwoFactor',
    document: 'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`setTrustedDevicesAllowed(organizationId: the org, allowed: false)`',
    operation: 'setTrustedDevicesAllowed',
    document:
      'mutation($o: ID!) { setTrustedDevicesAllowed(organizationId: $o, allowed: false) { id allowsTrustedDevices } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`setTrustedDevicesAllowed(organizationId: an unknown id)`',
    operation: 'setTrustedDevicesAllowed',
    document: 'mutation($o: ID!) { setTrustedDevicesAllowed(organizationId: $o, allowed: false) { id } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  {
    name: '`setAcceptsIdentityProviderMfa(organizationId: the org, accepts: true)`',
    operation: 'setAcceptsIdentityProviderMfa',
    document:
      'mutation($o: ID!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: true) { id acceptsIdentityProviderMfa } }',
    variables: (fixture) => ({ o: fixture.organizationId }),
    expected: cells({ owner: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`setAcceptsIdentityProviderMfa(organizationId: an unknown id)`',
    operation: 'setAcceptsIdentityProviderMfa',
    document: 'mutation($o: ID!) { setAcceptsIdentityProviderMfa(organizationId: $o, accepts: true) { id } }',
    variables: (fixture) => ({ o: fixture.unknownOrganizationId }),
    expected: cells({}, 'FORBIDDEN'),
  },
  // ---- directory sync
  {
    name: '`upsertOrganization(id: the org, name)`',
    operation: 'upsertOrganization',
    document: 'mutation($id: ID!, $n: String!) { upsertOrganization(id: $id, name: $n) { id name } }',
    variables: (fixture) => ({ id: fixture.organizationId, n: 'Renamed' }),
    expected: cells({ directory: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`setMembership(the org, the user, OWNER)`',
    operation: 'setMembership',
    document: 'mutation($o: ID!, $u: ID!) { setMembership(organizationId: $o, userId: $u, role: OWNER) { role } }',
    variables: (fixture) => ({ o: fixture.organizationId, u: target(fixture) }),
    expected: cells({ directory: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`removeMembership(the org, the user)`',
    operation: 'removeMembership',
    document: 'mutation($o: ID!, $u: ID!) { removeMembership(organizationId: $o, userId: $u) }',
    variables: (fixture) => ({ o: fixture.organizationId, u: target(fixture) }),
    expected: cells({ directory: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`deleteOrganization(id: the org)`',
    operation: 'deleteOrganization',
    document: 'mutation($id: ID!) { deleteOrganization(id: $id) }',
    variables: (fixture) => ({ id: fixture.organizationId }),
    expected: cells({ directory: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`deleteUser(userId: the user)`',
    operation: 'deleteUser',
    document: 'mutation($u: ID!) { deleteUser(userId: $u) }',
    variables: (fixture) => ({ u: target(fixture) }),
    expected: cells({ directory: 'allowed' }, 'FORBIDDEN'),
  },
  // ---- support
  {
    name: '`resetTwoFactor(userId: the user, reason)`',
    operation: 'resetTwoFactor',
    document: 'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }',
    variables: (fixture) => ({ u: target(fixture), r: 'lost phone, identity checked' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
    check: (answer) => (answer.data.resetTwoFactor.enabled === false ? undefined : 'two-factor should be off'),
  },
  // ---- webhooks (the matrix's service refuses internal URLs, so nothing is ever registered here)
  {
    name: '`webhookEndpoints`',
    operation: 'webhookEndpoints',
    document: '{ webhookEndpoints { id url } }',
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`webhookDeliveries(endpointId)`',
    operation: 'webhookDeliveries',
    document: 'query($e: ID!) { webhookDeliveries(endpointId: $e) { edges { node { id state } } } }',
    variables: () => ({ e: 'an-endpoint' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`createWebhookEndpoint(url)`',
    operation: 'createWebhookEndpoint',
    document: 'mutation($u: String!) { createWebhookEndpoint(url: $u) { secret } }',
    variables: () => ({ u: 'https://127.0.0.1/hooks' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`updateWebhookEndpoint(id, enabled)`',
    operation: 'updateWebhookEndpoint',
    document: 'mutation($id: ID!) { updateWebhookEndpoint(id: $id, enabled: false) { id } }',
    variables: () => ({ id: 'an-endpoint' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`rotateWebhookSecret(id)`',
    operation: 'rotateWebhookSecret',
    document: 'mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }',
    variables: () => ({ id: 'an-endpoint' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`deleteWebhookEndpoint(id)`',
    operation: 'deleteWebhookEndpoint',
    document: 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }',
    variables: () => ({ id: 'an-endpoint' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  {
    name: '`retryWebhookDelivery(id)`',
    operation: 'retryWebhookDelivery',
    document: 'mutation($id: ID!) { retryWebhookDelivery(id: $id) { id state } }',
    variables: () => ({ id: '1' }),
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
  // ---- which security keys count: the Metadata Service blob (the matrix's service has none loaded)
  {
    name: '`authenticatorModels`',
    operation: 'authenticatorModels',
    document: '{ authenticatorModels(first: 10) { totalCount edges { node { aaguid name compromised } } } }',
    expected: cells({}, 'allowed'),
  },
  {
    name: '`metadataServiceStatus`',
    operation: 'metadataServiceStatus',
    document: '{ metadataServiceStatus { blobNumber nextUpdate loadedAt entries } }',
    expected: cells({ admin: 'allowed' }, 'FORBIDDEN'),
  },
];

/** The matrix as the Markdown table SECURITY.md shows (between its matrix markers). */
export function renderMatrixTable(): string {
  const header = `| operation | ${CALLER_KINDS.map((kind) => CALLER_TITLES[kind]).join(' | ')} |`;
  const rule = `| --- | ${CALLER_KINDS.map(() => '---').join(' | ')} |`;
  const rows = MATRIX.map((row) => `| ${row.name} | ${CALLER_KINDS.map((kind) => row.expected[kind]).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}
