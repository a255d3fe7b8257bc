import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { buildGraphQLSchema } from '../../src/modules';
import { syncOrganization } from '../support/directory';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp } from '../support/two-factor';
import {
  CALLER_KINDS,
  type CallerKind,
  type Fixture,
  type GqlAnswer,
  MATRIX,
  type MatrixRow,
  renderMatrixTable,
} from './authorization-matrix';

/**
 * Every operation × every kind of caller, against the real service (one
 * instance for the whole matrix; each row with its own cast, rows run a few at
 * a time). For each row:
 * 1. the refused cells (UNAUTHENTICATED, FORBIDDEN, null), then the "self only"
 *    cells of callers other than the user; then the user's state and its
 *    organization's must be as before: a refused caller changed nothing, and
 *    a self-only operation touched only its caller;
 * 2. then the remaining allowed cells (which may change the user: a reset, an erasure).
 */

const SECURITY_MD = join(__dirname, '..', '..', 'SECURITY.md');
const START = '<!-- authorization-matrix:start (generated from test/security/authorization-matrix.ts) -->';
const END = '<!-- authorization-matrix:end -->';
const ROWS_AT_ONCE = 6;

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

interface RowFixture extends Fixture {
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

async function makeFixture(t: TestApp): Promise<RowFixture> {
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

/** What is wrong with one cell's answer, or undefined. */
function judge(row: MatrixRow, caller: CallerKind, answer: GqlAnswer, fixture: Fixture): string | undefined {
  const expected = row.expected[caller];
  const codes = (answer.errors ?? []).map((error) => error.extensions?.code);
  const got = () =>
    codes.length > 0
      ? answer.errors!.map((error) => `${error.extensions?.code} (${error.message})`).join(', ')
      : `data ${JSON.stringify(answer.data)?.slice(0, 160)}`;
  const wrong = () => `${caller}: expected ${expected}, got ${got()}`;
  if (answer.status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) return wrong();
  switch (expected) {
    case 'UNAUTHENTICATED':
    case 'FORBIDDEN':
      return codes.includes(expected) ? undefined : wrong();
    case 'null':
      return codes.length === 0 && answer.data?.[row.operation] === null ? undefined : wrong();
    case 'allowed':
    case 'self only': {
      if (codes.includes('UNAUTHENTICATED') || codes.includes('FORBIDDEN')) return wrong();
      if (codes.length > 0) return undefined;
      if (answer.data?.[row.operation] === null || answer.data?.[row.operation] === undefined) return wrong();
      const problem = row.check?.(answer, caller, fixture);
      return problem ? `${caller}: ${problem}` : undefined;
    }
  }
}

async function runCell(t: TestApp, row: MatrixRow, caller: CallerKind, fixture: Fixture): Promise<string | undefined> {
  const variables = (await row.variables?.(fixture, caller)) ?? {};
  const answer = await t.gql(row.document, variables, fixture.tokens[caller]);
  // MATRIX_TRACE=1 prints what each cell answered.
  if (process.env.MATRIX_TRACE === '1') {
    const codes = (answer.errors ?? []).map((error) => error.extensions?.code).join(',');
    process.stdout.write(`${row.name} | ${caller} | ${codes || JSON.stringify(answer.data).slice(0, 100)}\n`);
  }
  return judge(row, caller, answer, fixture);
}

async function runRow(t: TestApp, row: MatrixRow): Promise<string[]> {
  const fixture = await makeFixture(t);
  const before = await fixture.snapshot();
  const refused = (kind: CallerKind) => ['UNAUTHENTICATED', 'FORBIDDEN', 'null'].includes(row.expected[kind]);
  const first = CALLER_KINDS.filter((kind) => refused(kind) || (row.expected[kind] === 'self only' && kind !== 'self'));
  const then = CALLER_KINDS.filter((kind) => !first.includes(kind));
  const problems = (await Promise.all(first.map((kind) => runCell(t, row, kind, fixture)))).filter(
    (p): p is string => p !== undefined,
  );
  const after = await fixture.snapshot();
  if (after !== before) problems.push(`the user or the org changed before any allowed cell ran: ${before} -> ${after}`);
  problems.push(
    ...(await Promise.all(then.map((kind) => runCell(t, row, kind, fixture)))).filter(
      (p): p is string => p !== undefined,
    ),
  );
  return problems;
}

function rootField(document: string): string {
  const operation = parse(document).definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  )!;
  const field = operation.selectionSet.selections[0];
  return field.kind === Kind.FIELD ? field.name.value : '';
}

describe('the authorization matrix', () => {
  it('has a row for every Query and Mutation field of the schema, and none for fields that do not exist', async () => {
    const schema = await buildGraphQLSchema();
    const operations = [
      ...Object.keys(schema.getQueryType()!.getFields()).map((name) => `Query.${name}`),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}).map((name) => `Mutation.${name}`),
    ];
    const covered = new Set(MATRIX.map((row) => row.operation));
    const missing = operations.filter((operation) => !covered.has(operation.split('.')[1]));
    if (missing.length > 0) {
      throw new Error(
        `operations without a row in the authorization matrix (test/security/authorization-matrix.ts, and SECURITY.md): ${missing.join(', ')}`,
      );
    }
    const known = new Set(operations.map((operation) => operation.split('.')[1]));
    expect(MATRIX.filter((row) => !known.has(row.operation)).map((row) => row.name)).toEqual([]);
    // Each row's document asks for the operation it is filed under.
    expect(MATRIX.filter((row) => rootField(row.document) !== row.operation).map((row) => row.name)).toEqual([]);
    expect(new Set(MATRIX.map((row) => row.name)).size).toBe(MATRIX.length);
  });

  it('is the table SECURITY.md shows', () => {
    const text = readFileSync(SECURITY_MD, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const shown = text.slice(start + START.length, end).trim();
    const table = renderMatrixTable();
    if (shown !== table && process.env.UPDATE_SECURITY_MATRIX === '1') {
      writeFileSync(SECURITY_MD, `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`);
      return;
    }
    // To rewrite SECURITY.md's table from the matrix: UPDATE_SECURITY_MATRIX=1 npx jest test/security/authorization-matrix.test.ts
    expect(shown).toBe(table);
  });

  describe('against the running service', () => {
    let t: TestApp;
    const results = new Map<string, string[]>();

    beforeAll(async () => {
      t = await startTestApp();
      for (let index = 0; index < MATRIX.length; index += ROWS_AT_ONCE) {
        const batch = MATRIX.slice(index, index + ROWS_AT_ONCE);
        await Promise.all(
          batch.map(async (row) => {
            results.set(
              row.name,
              await runRow(t, row).catch((error: Error) => [`the row could not run: ${error.message}`]),
            );
          }),
        );
      }
    }, 120_000);
    afterAll(() => t?.close());

    it.each(MATRIX.map((row) => [row.name]))('%s: every caller gets what the matrix says', (name) => {
      expect(results.get(name)).toEqual([]);
    });
  });
});
