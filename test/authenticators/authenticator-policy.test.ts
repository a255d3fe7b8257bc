import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { verifyMetadataBlob } from '../../src/authenticators/metadata-blob';
import { MetadataStore } from '../../src/authenticators/metadata-store';
import { AttestingAuthenticator, type AttestingAuthenticatorOptions } from '../support/attesting-authenticator';
import { syncOrganization } from '../support/directory';
import { TestAuthenticatorModel, TestMetadataService } from '../support/metadata-ca';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const ORIGIN = 'http://localhost:5173';
const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';
const START_REGISTRATION =
  'mutation($c: String, $w: JSON) { startWebAuthnRegistration(code: $c, webAuthn: $w) { options } }';
const CREDENTIAL_FIELDS = 'id aaguid attested deviceBound authenticatorName acceptedByOrganizations';
const CONFIRM_REGISTRATION = `mutation($r: JSON!) { confirmWebAuthnRegistration(response: $r) { status { phishingResistant webAuthnCredentials { ${CREDENTIAL_FIELDS} } } } }`;
const MY_KEYS = `{ me { twoFactor { webAuthnCredentials { ${CREDENTIAL_FIELDS} } } } }`;
const SET_POLICY = `mutation($o: ID!, $a: [ID!]!, $d: Boolean!) {
  setAuthenticatorPolicy(organizationId: $o, allowedAaguids: $a, requireDeviceBound: $d) {
    id authenticatorPolicy { allowedAaguids requireDeviceBound } ownersWithoutAcceptedAuthenticator
  }
}`;
const REQUIRE_PR =
  'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o) { requiresPhishingResistantTwoFactor } }';
const COMPLIANCE = `query($id: ID!) { organization(id: $id) {
  ownersWithoutAcceptedAuthenticator
  compliance { totalMembers membersWithPhishingResistant ownersWithoutPhishingResistant compliant membersExempt }
} }`;
const MEMBERS = `query($id: ID!, $filter: MemberFilter) {
  organization(id: $id) { members(first: 50, filter: $filter) { totalCount edges { node { user { id } } } } }
}`;
const PREVIEW = `query($o: ID!) { previewTwoFactorRequirement(organizationId: $o, phishingResistant: true) {
  ownersBlockingCount membersAffected affectedMembers(first: 50) { totalCount edges { node { user { id } } } }
} }`;
const ACCESS =
  'query($o: ID!, $u: ID!, $s: [String!]) { organizationAccess(organizationId: $o, userId: $u, sessionAmr: $s) { allowed reason } }';
const KEY_SESSION = ['pwd', 'hwk'];
const START_LOGIN =
  'mutation($u: ID!, $d: String) { startLoginChallenge(userId: $u, deviceToken: $d) { id webAuthnOptions assertion } }';
const VERIFY_LOGIN = `mutation($id: ID!, $c: String, $w: JSON, $r: Boolean) {
  verifyLoginChallenge(challengeId: $id, code: $c, webAuthn: $w, rememberDevice: $r, deviceName: "Laptop") { assertion deviceToken }
}`;
const START_STEP_UP = 'mutation { startWebAuthnStepUp { options } }';
const REMOVE_KEY =
  'mutation($id: ID!, $w: JSON) { removeWebAuthnCredential(id: $id, webAuthn: $w) { phishingResistant } }';

/**
 * Which security keys count (contract "Authenticators"): real packed attestation
 * from software keys whose models a test Metadata Service lists, through the API.
 */
describe('authenticator policies: attestation, allow-lists, device-bound keys, compromise and acr', () => {
  let t: TestApp;
  let mds: TestMetadataService;
  let yubiKey: TestAuthenticatorModel;
  let feitian: TestAuthenticatorModel;
  let later: TestAuthenticatorModel;
  /** Claims YubiKey's AAGUID, with a certificate from a root of its own. */
  let forger: TestAuthenticatorModel;
  let tokenOf: (userId: string) => Promise<string>;
  let directory: string;
  let reader: string;

  beforeAll(async () => {
    mds = await TestMetadataService.create();
    yubiKey = await TestAuthenticatorModel.create('YubiKey 5 NFC');
    feitian = await TestAuthenticatorModel.create('Feitian ePass');
    later = await TestAuthenticatorModel.create('Later Key');
    forger = await TestAuthenticatorModel.create('Forged YubiKey', yubiKey.aaguid);
    const blob = await mds.sign({ no: 1, entries: [yubiKey.entry(), feitian.entry(), later.entry()] });
    t = await startTestApp({
      env: { ...mds.env(blob), WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: ORIGIN },
      manualBackgroundWork: true,
    });
    tokenOf = (userId) => t.token(userId, [], { authTime: t.clock.now() });
    directory = await t.token('directory-sync', ['twofactor:directory']);
    reader = await t.token('auditor', ['twofactor:read']);
    expect(directory).toBeTruthy();
  });
  afterAll(() => t?.close());

  const key = (model: TestAuthenticatorModel | null, options: AttestingAuthenticatorOptions = {}) =>
    new AttestingAuthenticator(model, options);

  /** A first key for a user without two-factor; the options asked and the credential as listed. */
  async function register(userId: string, authenticator: AttestingAuthenticator) {
    const token = await tokenOf(userId);
    const start = await t.gql(START_REGISTRATION, {}, token);
    if (start.errors) throw new Error(JSON.stringify(start.errors));
    const options = start.data.startWebAuthnRegistration.options;
    const response = await authenticator.register(options, { origin: ORIGIN });
    const confirm = await t.gql(CONFIRM_REGISTRATION, { r: response }, token);
    if (confirm.errors) throw new Error(JSON.stringify(confirm.errors));
    return {
      token,
      attestationAsked: options.attestation as string,
      credential: confirm.data.confirmWebAuthnRegistration.status.webAuthnCredentials[0],
    };
  }

  const access = async (organizationId: string, userId: string, session: string[] | null = KEY_SESSION) =>
    (await t.gql(ACCESS, { o: organizationId, u: userId, s: session }, reader)).data.organizationAccess;

  const members = async (organizationId: string, phishingResistant?: boolean) => {
    const result = await t.gql(MEMBERS, { id: organizationId, filter: { phishingResistant } }, reader);
    const connection = result.data.organization.members;
    return { total: connection.totalCount, ids: connection.edges.map((edge: any) => edge.node.user.id).sort() };
  };

  async function login(userId: string, authenticator: AttestingAuthenticator, remember = false) {
    const service = await t.token('login-service', ['twofactor:login']);
    const challenge = (await t.gql(START_LOGIN, { u: userId }, service)).data.startLoginChallenge;
    const answer = authenticator.authenticate(challenge.webAuthnOptions, { origin: ORIGIN });
    const verified = await t.gql(VERIFY_LOGIN, { id: challenge.id, w: answer, r: remember }, service);
    if (verified.errors) throw new Error(JSON.stringify(verified.errors));
    return verified.data.verifyLoginChallenge as { assertion: string; deviceToken: string | null };
  }

  describe('registration', () => {
    it('asks for direct attestation from an owner, and records an attested, listed, device-bound key with its model', async () => {
      const owner = uniqueId('owner');
      await syncOrganization(t, uniqueId('org'), { [owner]: 'OWNER' });
      const { attestationAsked, credential } = await register(owner, key(yubiKey));
      expect(attestationAsked).toBe('direct');
      expect(credential).toMatchObject({
        aaguid: yubiKey.aaguid,
        attested: true,
        deviceBound: true,
        authenticatorName: 'YubiKey 5 NFC',
        acceptedByOrganizations: true,
      });
    });

    it('asks for no attestation from a user in no organization, and still verifies a statement it gets', async () => {
      const { attestationAsked, credential } = await register(uniqueId('loner'), key(feitian));
      expect(attestationAsked).toBe('none');
      expect(credential).toMatchObject({ aaguid: feitian.aaguid, attested: true, authenticatorName: 'Feitian ePass' });
    });

    it('records attestation none as unattested, with the AAGUID the authenticator claims', async () => {
      const { credential } = await register(uniqueId('none'), key(yubiKey, { attestation: 'none' }));
      expect(credential).toMatchObject({ aaguid: yubiKey.aaguid, attested: false, deviceBound: true });
    });

    it('registers a key whose chain leads to another root, as unattested', async () => {
      const { credential } = await register(uniqueId('forged'), key(forger));
      expect(credential).toMatchObject({ aaguid: yubiKey.aaguid, attested: false });
    });

    it('registers a key whose statement does not verify (self attestation, an all-zero AAGUID) as unattested', async () => {
      const { credential } = await register(uniqueId('self'), key(null, { attestation: 'self' }));
      expect(credential).toMatchObject({ aaguid: ZERO_AAGUID, attested: false, authenticatorName: null });
    });

    it('says a synced passkey is not device-bound', async () => {
      const { credential } = await register(uniqueId('synced'), key(yubiKey, { deviceBound: false }));
      expect(credential).toMatchObject({ attested: true, deviceBound: false });
    });
  });

  describe('an allow-list in force, beside an organization without one', () => {
    const listed = uniqueId('listed-org');
    const open = uniqueId('open-org');
    const people = {
      owner: uniqueId('owner'),
      yubi: uniqueId('yubi'),
      feitian: uniqueId('feitian'),
      unattested: uniqueId('unattested'),
      nokey: uniqueId('nokey'),
    };
    const keys = new Map<string, AttestingAuthenticator>();

    beforeAll(async () => {
      await syncOrganization(t, listed, { [people.owner]: 'OWNER' });
      const made: [string, AttestingAuthenticator][] = [
        [people.owner, key(yubiKey)],
        [people.yubi, key(yubiKey)],
        [people.feitian, key(feitian)],
        [people.unattested, key(yubiKey, { attestation: 'none' })],
      ];
      for (const [userId, authenticator] of made) {
        keys.set(userId, authenticator);
        await register(userId, authenticator);
      }
      await syncOrganization(t, listed, {
        [people.yubi]: 'MEMBER',
        [people.feitian]: 'MEMBER',
        [people.unattested]: 'MEMBER',
        [people.nokey]: 'MEMBER',
      });
      await syncOrganization(t, open, { [people.owner]: 'OWNER', [people.feitian]: 'MEMBER' });
    });

    it('refuses AAGUIDs the blob does not list, and malformed ones, as BAD_USER_INPUT', async () => {
      const owner = await tokenOf(people.owner);
      for (const aaguids of [[randomUUID()], [yubiKey.aaguid, ZERO_AAGUID], ['yubikey']]) {
        const result = await t.gql(SET_POLICY, { o: listed, a: aaguids, d: false }, owner);
        expect(errorCode(result)).toBe('BAD_USER_INPUT');
      }
    });

    it('refuses a policy while an owner has no key it accepts, atomically, naming nothing changed', async () => {
      const other = uniqueId('org');
      const weakOwner = uniqueId('weak-owner');
      await register(weakOwner, key(feitian, { attestation: 'none' }));
      await syncOrganization(t, other, { [weakOwner]: 'OWNER' });
      const owner = await tokenOf(weakOwner);
      const refused = await t.gql(SET_POLICY, { o: other, a: [feitian.aaguid], d: false }, owner);
      expect(errorCode(refused)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(refused.errors?.[0].extensions?.userIds).toEqual([weakOwner]);
      const after = await t.gql(COMPLIANCE, { id: other }, owner);
      expect(after.data.organization.ownersWithoutAcceptedAuthenticator).toBe(0);
    });

    it('sets the allow-list; only attested keys of listed models count, in counters, filters, access and the preview', async () => {
      const owner = await tokenOf(people.owner);
      const set = await t.gql(SET_POLICY, { o: listed, a: [yubiKey.aaguid], d: false }, owner);
      expect(set.errors).toBeUndefined();
      expect(set.data.setAuthenticatorPolicy).toMatchObject({
        authenticatorPolicy: { allowedAaguids: [yubiKey.aaguid], requireDeviceBound: false },
        ownersWithoutAcceptedAuthenticator: 0,
      });
      expect((await t.gql(REQUIRE_PR, { o: listed }, owner)).errors).toBeUndefined();

      const compliance = (await t.gql(COMPLIANCE, { id: listed }, reader)).data.organization.compliance;
      expect(compliance).toMatchObject({
        totalMembers: 5,
        membersWithPhishingResistant: 2,
        ownersWithoutPhishingResistant: 0,
        compliant: false,
        membersExempt: 0,
      });
      expect(await members(listed, true)).toEqual({ total: 2, ids: [people.owner, people.yubi].sort() });
      expect(await members(listed, false)).toEqual({
        total: 3,
        ids: [people.feitian, people.unattested, people.nokey].sort(),
      });
      const preview = (await t.gql(PREVIEW, { o: listed }, reader)).data.previewTwoFactorRequirement;
      expect(preview).toMatchObject({ ownersBlockingCount: 0, membersAffected: 3 });
      expect(preview.affectedMembers.totalCount).toBe(3);
      expect(preview.affectedMembers.edges.map((edge: any) => edge.node.user.id).sort()).toEqual(
        [people.feitian, people.unattested, people.nokey].sort(),
      );

      expect(await access(listed, people.yubi)).toEqual({ allowed: true, reason: 'OK' });
      // A key the policy does not accept is not "hwk" for this organization: the user has none it accepts.
      for (const userId of [people.feitian, people.unattested, people.nokey]) {
        expect(await access(listed, userId)).toEqual({ allowed: false, reason: 'PHISHING_RESISTANT_REQUIRED' });
      }
    });

    it('judges each organization by its own policy: the same key counts where no allow-list is set', async () => {
      const owner = await tokenOf(people.owner);
      expect((await t.gql(REQUIRE_PR, { o: open }, owner)).errors).toBeUndefined();
      expect(await access(open, people.feitian)).toEqual({ allowed: true, reason: 'OK' });
      expect(await access(listed, people.feitian)).toEqual({ allowed: false, reason: 'PHISHING_RESISTANT_REQUIRED' });
      const mine = await t.gql(MY_KEYS, {}, await tokenOf(people.feitian));
      expect(mine.data.me.twoFactor.webAuthnCredentials).toEqual([
        expect.objectContaining({ aaguid: feitian.aaguid, attested: true, acceptedByOrganizations: false }),
      ]);
      const yubi = await t.gql(MY_KEYS, {}, await tokenOf(people.yubi));
      expect(yubi.data.me.twoFactor.webAuthnCredentials).toEqual([
        expect.objectContaining({ acceptedByOrganizations: true }),
      ]);
    });

    it('keeps the last accepted key while the policy requires one (TWO_FACTOR_REQUIRED_BY_ORGANIZATION)', async () => {
      const userId = people.yubi;
      const token = await tokenOf(userId);
      const authenticator = keys.get(userId)!;
      const options = (await t.gql(START_STEP_UP, {}, token)).data.startWebAuthnStepUp.options;
      const [credential] = (await t.gql(MY_KEYS, {}, token)).data.me.twoFactor.webAuthnCredentials;
      const removed = await t.gql(
        REMOVE_KEY,
        { id: credential.id, w: authenticator.authenticate(options, { origin: ORIGIN }) },
        token,
      );
      expect(errorCode(removed)).toBe('TWO_FACTOR_REQUIRED_BY_ORGANIZATION');
      expect(removed.errors?.[0].extensions?.organizationIds).toEqual([listed]);
      expect(await access(listed, userId)).toEqual({ allowed: true, reason: 'OK' });
    });

    it('signs the assertion with acr phrh for a device-bound key, and a remembered device keeps it', async () => {
      const signedIn = await login(people.yubi, keys.get(people.yubi)!, true);
      expect(decodeJwt(signedIn.assertion)).toMatchObject({ amr: ['hwk', 'user'], acr: 'phrh' });
      const service = await t.token('login-service', ['twofactor:login']);
      const device = await t.gql(START_LOGIN, { u: people.yubi, d: signedIn.deviceToken }, service);
      expect(decodeJwt(device.data.startLoginChallenge.assertion)).toMatchObject({
        amr: ['device', 'hwk'],
        acr: 'phrh',
      });
    });
  });

  describe('device-bound keys only', () => {
    it('a synced passkey does not meet requireDeviceBound; a device-bound key does; acr says phr for the passkey', async () => {
      const organizationId = uniqueId('bound-org');
      const owner = uniqueId('owner');
      const synced = uniqueId('synced');
      const passkey = key(yubiKey, { deviceBound: false });
      await register(owner, key(later));
      await register(synced, passkey);
      await syncOrganization(t, organizationId, { [owner]: 'OWNER', [synced]: 'MEMBER' });
      const token = await tokenOf(owner);
      const set = await t.gql(SET_POLICY, { o: organizationId, a: [], d: true }, token);
      expect(set.data.setAuthenticatorPolicy.authenticatorPolicy).toEqual({
        allowedAaguids: [],
        requireDeviceBound: true,
      });
      await t.gql(REQUIRE_PR, { o: organizationId }, token);
      expect(await access(organizationId, owner)).toEqual({ allowed: true, reason: 'OK' });
      expect(await access(organizationId, synced)).toEqual({ allowed: false, reason: 'PHISHING_RESISTANT_REQUIRED' });
      expect(await members(organizationId, false)).toEqual({ total: 1, ids: [synced] });
      expect(decodeJwt((await login(synced, passkey)).assertion)).toMatchObject({ acr: 'phr' });
    });

    it('a TOTP sign-in is acr mfa', async () => {
      const userId = uniqueId('totp');
      const { secret } = await enrollTotp(t, userId);
      const service = await t.token('login-service', ['twofactor:login']);
      const challenge = (await t.gql(START_LOGIN, { u: userId }, service)).data.startLoginChallenge;
      nextStep(t);
      const verified = await t.gql(VERIFY_LOGIN, { id: challenge.id, c: currentTotp(t, secret) }, service);
      expect(verified.errors).toBeUndefined();
      expect(decodeJwt(verified.data.verifyLoginChallenge.assertion)).toMatchObject({ amr: ['otp'], acr: 'mfa' });
    });
  });

  describe('a compromise reported in a newer blob', () => {
    it('stops counting the model everywhere as soon as the instance loads it, without rewriting a membership', async () => {
      const organizationId = uniqueId('compromise-org');
      const owner = uniqueId('owner');
      const member = uniqueId('later-member');
      await register(owner, key(yubiKey));
      await register(member, key(later));
      await syncOrganization(t, organizationId, { [owner]: 'OWNER', [member]: 'MEMBER' });
      await t.gql(REQUIRE_PR, { o: organizationId }, await tokenOf(owner));
      expect(await access(organizationId, member)).toEqual({ allowed: true, reason: 'OK' });
      const before = await t.sql('SELECT key_set_id FROM memberships WHERE organization_id = ? ORDER BY user_id', [
        organizationId,
      ]);

      const blob = await mds.sign({
        no: 2,
        entries: [yubiKey.entry(), feitian.entry(), later.entry(['FIDO_CERTIFIED_L1', 'USER_KEY_REMOTE_COMPROMISE'])],
      });
      const trust = { anchors: [mds.root.certificate], crls: [], maxAgeDays: 60 };
      await new MetadataStore(t.app.database).store(await verifyMetadataBlob(blob, trust, new Date()), new Date());
      await t.app.runBackgroundJobs();

      expect(await access(organizationId, member)).toEqual({ allowed: false, reason: 'PHISHING_RESISTANT_REQUIRED' });
      const compliance = (await t.gql(COMPLIANCE, { id: organizationId }, reader)).data.organization.compliance;
      expect(compliance).toMatchObject({ totalMembers: 2, membersWithPhishingResistant: 1, compliant: false });
      expect(await members(organizationId, false)).toEqual({ total: 1, ids: [member] });
      const mine = await t.gql(MY_KEYS, {}, await tokenOf(member));
      expect(mine.data.me.twoFactor.webAuthnCredentials[0]).toMatchObject({ acceptedByOrganizations: false });
      expect(
        await t.sql('SELECT key_set_id FROM memberships WHERE organization_id = ? ORDER BY user_id', [organizationId]),
      ).toEqual(before);
    });
  });
});
