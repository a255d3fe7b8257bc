import { syncOrganization } from '../support/directory';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { type TestApp, uniqueId } from '../support/test-app';
import { currentTotp } from '../support/two-factor';
import { CALLER_KINDS, type CallerKind, type Fixture, type MatrixRow } from './authorization-matrix';

/**
 * How a row of the authorization matrix is played: its cast, made afresh, and
 * the order of its cells. Used by authorization-matrix.test.ts (which judges each
 * cell) and by the executor parity proof (test/graphql/executor-parity.test.ts,
 * which sends each cell to graphql-jit and graphql-js and compares the answers).
 */

const SCOPES: Partial<Record<CallerKind, string[]>> = {
  read: ['twofactor:read'],
  login: ['twofactor:login'],
  directory: ['twofactor:directory'],
  admin: ['twofactor:admin'],
};

// Of the org's counts, those that only the directory, the policy or the owners' factors move: another
// member's own enrollment (a self-only cell) moves the members' counts, as it should.
const SNAPSHOT = `query($u: ID!, $o: ID!) {
  user(id: $u) {
    twoFactor { enabled locked methods recoveryCodesRemaining phishingResistant webAuthnCredentials { id name } trustedDevices { id } }
    memberships { role organization { id } }
  }
  organization(id: $o) {
    name requiresTwoFactor requiresPhishingResistantTwoFactor gracePeriodEndsAt allowsTrustedDevices
    compliance { totalMembers ownersWithoutTwoFactor ownersWithoutPhishingResistant }
  }
}`;

/** An origin the development default allows (WEB_PORT's). */
const ORIGIN = 'http://localhost:5173';
const START_REGISTRATION = 'mutation($w: JSON) { startWebAuthnRegistration(webAuthn: $w) { options } }';

export interface RowFixture extends Fixture {
  snapshot(): Promise<string>;
}

async function gqlData(t: TestApp, what: string, document: string, variables: Record<string, unknown>, token: string) {
  const result = await t.gql(document, variables, token);
  if (result.errors) throw new Error(`${what}: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The key's answer to a fresh step-up of the token's user. */
async function stepUp(t: TestApp, token: string, key: SoftAuthenticator): Promise<unknown> {
  const data = await gqlData(t, 'stepping up', 'mutation { startWebAuthnStepUp { options } }', {}, token);
  return key.authenticate(data.startWebAuthnStepUp.options, { origin: ORIGIN });
}

/**
 * A security key first (the first factor: the token is fresh), then TOTP behind a
 * step-up with that key. The key never counts (signature counter 0), so that
 * parallel answers by it are never taken for a clone.
 */
async function enroll(t: TestApp, token: string): Promise<{ key: SoftAuthenticator; credentialId: string }> {
  const key = new SoftAuthenticator({ signCounterIncrement: 0 });
  const start = await gqlData(t, 'registering a key', START_REGISTRATION, {}, token);
  const confirm = await gqlData(
    t,
    'registering a key',
    'mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r) { status { webAuthnCredentials { id } } } }',
    { r: key.register(start.startWebAuthnRegistration.options, { origin: ORIGIN }) },
    token,
  );
  const totp = await gqlData(
    t,
    'enrolling TOTP',
    'mutation($w: JSON) { startTotpSetup(webAuthn: $w) { secret } }',
    { w: await stepUp(t, token, key) },
    token,
  );
  await gqlData(
    t,
    'enrolling TOTP',
    'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }',
    { c: currentTotp(t, totp.startTotpSetup.secret) },
    token,
  );
  return { key, credentialId: confirm.confirmWebAuthnRegistration.status.webAuthnCredentials[0].id };
}

/** A login of the user answered with its key, with "remember this browser": the device's token. */
async function rememberDevice(t: TestApp, loginService: string, userId: string, key: SoftAuthenticator) {
  const start = await gqlData(
    t,
    'opening a challenge',
    'mutation($u: ID!) { startLoginChallenge(userId: $u) { id webAuthnOptions } }',
    { u: userId },
    loginService,
  );
  const verify = await t.gql(
    'mutation($id: ID!, $w: JSON) { verifyLoginChallenge(challengeId: $id, webAuthn: $w, rememberDevice: true, deviceName: "Laptop") { deviceToken } }',
    {
      id: start.startLoginChallenge.id,
      w: key.authenticate(start.startLoginChallenge.webAuthnOptions, { origin: ORIGIN }),
    },
  );
  if (verify.errors || !verify.data.verifyLoginChallenge.deviceToken)
    throw new Error(`remembering a device: ${JSON.stringify(verify.errors)}`);
  return verify.data.verifyLoginChallenge.deviceToken as string;
}

/**
 * The cast of one row (see authorization-matrix.ts), made through the API on `t`:
 * the org, its members, their security keys and TOTP, a remembered browser.
 */
export async function makeFixture(t: TestApp): Promise<RowFixture> {
  const tag = uniqueId('m');
  const ids = {
    self: `alice-${tag}`,
    otherUser: `oscar-${tag}`,
    member: `mia-${tag}`,
    owner: `olivia-${tag}`,
    read: `svc-read-${tag}`,
    login: `svc-login-${tag}`,
    directory: `svc-directory-${tag}`,
    admin: `svc-admin-${tag}`,
  };
  const tokens = { anonymous: undefined } as Record<CallerKind, string | undefined>;
  for (const kind of CALLER_KINDS) {
    if (kind !== 'anonymous') tokens[kind] = await t.token(ids[kind], SCOPES[kind] ?? [], { authTime: t.clock.now() });
  }
  const organizationId = `acme-${tag}`;
  await syncOrganization(
    t,
    organizationId,
    { [ids.self]: 'MEMBER', [ids.member]: 'MEMBER', [ids.owner]: 'OWNER' },
    `Acme ${tag}`,
  );
  const [self, owner] = await Promise.all([enroll(t, tokens.self!), enroll(t, tokens.owner!)]);
  const authenticators: Partial<Record<CallerKind, SoftAuthenticator>> = { self: self.key, owner: owner.key };
  const loginService = await t.token(`setup-login-${tag}`, ['twofactor:login']);
  const reader = await t.token(`setup-read-${tag}`, ['twofactor:read']);
  const stepUpWithKey = async (caller: CallerKind) => {
    const key = authenticators[caller];
    return key ? stepUp(t, tokens[caller]!, key) : null;
  };
  const deviceToken = await rememberDevice(t, loginService, ids.self, self.key);
  const devices = await gqlData(
    t,
    'listing devices',
    '{ me { twoFactor { trustedDevices { id } } } }',
    {},
    tokens.self!,
  );
  return {
    ids,
    tokens,
    organizationId,
    unknownOrganizationId: `nowhere-${tag}`,
    keys: { self: self.credentialId, owner: owner.credentialId },
    deviceToken,
    trustedDeviceId: devices.me.twoFactor.trustedDevices[0].id,
    async openChallenge() {
      const data = await gqlData(
        t,
        'opening a challenge',
        'mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }',
        { u: ids.self },
        loginService,
      );
      return data.startLoginChallenge.id;
    },
    async openChallengeAnsweredByKey() {
      const data = await gqlData(
        t,
        'opening a challenge',
        'mutation($u: ID!) { startLoginChallenge(userId: $u) { id webAuthnOptions } }',
        { u: ids.self },
        loginService,
      );
      const { id, webAuthnOptions } = data.startLoginChallenge;
      return { id, answer: self.key.authenticate(webAuthnOptions, { origin: ORIGIN }) };
    },
    stepUpWithKey,
    async registrationResponse(caller) {
      const token = tokens[caller];
      if (!token) return {};
      const start = await gqlData(
        t,
        'starting a registration',
        START_REGISTRATION,
        { w: await stepUpWithKey(caller) },
        token,
      );
      return new SoftAuthenticator().register(start.startWebAuthnRegistration.options, { origin: ORIGIN });
    },
    async snapshot() {
      const result = await t.gql(SNAPSHOT, { u: ids.self, o: organizationId }, reader);
      return JSON.stringify(result.body);
    },
  };
}

/**
 * The order a row's cells run in: first the refused cells and the "self only"
 * cells of callers other than the user (after them the user and the org must be
 * as before); then the remaining allowed cells, which may change the user.
 */
export function cellOrder(row: MatrixRow): { first: CallerKind[]; then: CallerKind[] } {
  const refused = (kind: CallerKind) => ['UNAUTHENTICATED', 'FORBIDDEN', 'null'].includes(row.expected[kind]);
  const first = CALLER_KINDS.filter((kind) => refused(kind) || (row.expected[kind] === 'self only' && kind !== 'self'));
  const then = CALLER_KINDS.filter((kind) => !first.includes(kind));
  return { first, then };
}
