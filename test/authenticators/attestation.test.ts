import 'reflect-metadata';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { AttestationVerifier, withoutAttestation } from '../../src/authenticators/attestation';
import { verifyMetadataBlob, type MetadataTrust } from '../../src/authenticators/metadata-blob';
import { ModelCatalog, ModelRegistry } from '../../src/authenticators/model-catalog';
import { WebAuthnRelyingParty } from '../../src/factors/webauthn/webauthn-relying-party';
import { ManualClock } from '../../src/infra/clock';
import { AttestingAuthenticator, type AttestingAuthenticatorOptions } from '../support/attesting-authenticator';
import { TestAuthenticatorModel, TestCertificateAuthority, TestMetadataService } from '../support/metadata-ca';

const ORIGIN = 'http://localhost:4000';
const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';

describe('attestation against the Metadata Service blob', () => {
  const rp = new WebAuthnRelyingParty({ rpId: 'localhost', rpName: 'Tests', origins: [ORIGIN] });
  const clock = new ManualClock(new Date());
  const registry = new ModelRegistry();
  const verifier = new AttestationVerifier(registry, clock);
  let listed: TestAuthenticatorModel;
  let compromised: TestAuthenticatorModel;
  let unlisted: TestAuthenticatorModel;

  beforeAll(async () => {
    const mds = await TestMetadataService.create();
    const trust: MetadataTrust = { anchors: [mds.root.certificate], crls: [], maxAgeDays: 60 };
    [listed, compromised, unlisted] = await Promise.all([
      TestAuthenticatorModel.create('Listed Key'),
      TestAuthenticatorModel.create('Compromised Key'),
      TestAuthenticatorModel.create('Unlisted Key'),
    ]);
    const blob = await mds.sign({
      no: 1,
      entries: [listed.entry(), compromised.entry(['FIDO_CERTIFIED_L1', 'ATTESTATION_KEY_COMPROMISE'])],
    });
    const verified = await verifyMetadataBlob(blob, trust, clock.now());
    registry.replace(
      ModelCatalog.of(
        {
          blobNumber: 1,
          nextUpdate: verified.nextUpdate,
          loadedAt: clock.now(),
          entries: verified.entries,
          version: 1,
        },
        verified.models,
      ),
    );
  });

  /** A registration the relying party accepts, made by `authenticator`. */
  async function registered(authenticator: AttestingAuthenticator): Promise<RegistrationResponseJSON> {
    const options = await rp.registrationOptions({
      userHandle: new Uint8Array(32).fill(1),
      userName: 'alice',
      excludeCredentials: [],
    });
    const response = await authenticator.register(options, { origin: ORIGIN });
    const verification = await rp.verifyRegistration(response, options.challenge);
    expect(verification).toMatchObject({ ok: true });
    return response;
  }

  const key = (model: TestAuthenticatorModel | null, options: AttestingAuthenticatorOptions = {}) =>
    new AttestingAuthenticator(model, options);

  it('attests a listed model whose certificate chains to its root: aaguid, attested, device-bound', async () => {
    const response = await registered(key(listed));
    await expect(verifier.verify(response)).resolves.toMatchObject({
      aaguid: listed.aaguid,
      attested: true,
      deviceBound: true,
      format: 'packed',
    });
  });

  it('says a synced passkey (backup eligible) is not device-bound, attested or not', async () => {
    const response = await registered(key(listed, { deviceBound: false }));
    await expect(verifier.verify(response)).resolves.toMatchObject({ attested: true, deviceBound: false });
    const none = await registered(key(listed, { deviceBound: false, attestation: 'none' }));
    await expect(verifier.verify(none)).resolves.toMatchObject({ attested: false, deviceBound: false });
  });

  it('does not attest attestation "none", but still reports the AAGUID and the flags', async () => {
    const response = await registered(key(listed, { attestation: 'none' }));
    await expect(verifier.verify(response)).resolves.toMatchObject({
      aaguid: listed.aaguid,
      attested: false,
      deviceBound: true,
      format: 'none',
    });
  });

  it('does not attest self attestation (signed by the credential itself: no certificate)', async () => {
    const response = await registered(key(listed, { attestation: 'self' }));
    await expect(verifier.verify(response)).resolves.toMatchObject({
      aaguid: listed.aaguid,
      attested: false,
      format: 'packed',
      reason: expect.stringMatching(/self attestation/),
    });
  });

  it('does not attest a model the blob does not list', async () => {
    const response = await registered(key(unlisted));
    await expect(verifier.verify(response)).resolves.toMatchObject({
      aaguid: unlisted.aaguid,
      attested: false,
      reason: expect.stringMatching(/gives no attestation root/),
    });
  });

  it("does not attest a key claiming a listed model's AAGUID with a certificate from another root", async () => {
    const other = await TestCertificateAuthority.create('Counterfeit Root');
    const counterfeit = await other.issue({
      subject: 'CN=Listed Key Attestation, OU=Authenticator Attestation, O=Twofactor Tests, C=US',
      aaguid: listed.aaguid,
    });
    const impostor = Object.assign(Object.create(Object.getPrototypeOf(listed)), listed, { attestation: counterfeit });
    const response = await registered(key(impostor));
    await expect(verifier.verify(response)).resolves.toMatchObject({
      aaguid: listed.aaguid,
      attested: false,
      reason: expect.stringMatching(/does not chain to the model's root/),
    });
  });

  it('does not attest an attestation certificate no longer valid', async () => {
    clock.advance(400 * 86_400_000);
    try {
      const response = await registered(key(listed));
      // The relying party does not look at the certificate's dates; the verifier's clock has moved past it.
      await expect(verifier.verify(response)).resolves.toMatchObject({
        attested: false,
        reason: expect.stringMatching(/not valid now/),
      });
    } finally {
      clock.set(new Date());
    }
  });

  it('attests a model reported compromised (a fact of the registration); whether it counts is read at use', async () => {
    const response = await registered(key(compromised));
    await expect(verifier.verify(response)).resolves.toMatchObject({ aaguid: compromised.aaguid, attested: true });
    expect(registry.current.isCompromised(compromised.aaguid)).toBe(true);
  });

  it('attests nothing while no blob is loaded', async () => {
    const empty = new AttestationVerifier(new ModelRegistry(), clock);
    const response = await registered(key(listed));
    await expect(empty.verify(response)).resolves.toMatchObject({
      aaguid: listed.aaguid,
      attested: false,
      deviceBound: true,
    });
  });

  it('never throws: a broken statement or response is unattested', async () => {
    const response = await registered(key(listed));
    const statementBroken = brokenSignature(response);
    await expect(verifier.verify(statementBroken)).resolves.toMatchObject({
      aaguid: listed.aaguid,
      attested: false,
      reason: expect.stringMatching(/statement does not verify/),
    });
    for (const junk of [
      null,
      'x',
      {},
      { response: { attestationObject: '!!' } },
      { response: { attestationObject: 'AAAA' } },
    ]) {
      await expect(verifier.verify(junk)).resolves.toEqual(
        expect.objectContaining({ aaguid: ZERO_AAGUID, attested: false, deviceBound: false }),
      );
    }
  });

  it('the test key signs in with the flags it registered with (a device-bound key stays device-bound)', async () => {
    for (const deviceBound of [true, false]) {
      const authenticator = key(listed, { deviceBound });
      const options = await rp.registrationOptions({
        userHandle: new Uint8Array(32).fill(3),
        userName: 'carol',
        excludeCredentials: [],
      });
      const registration = await rp.verifyRegistration(
        await authenticator.register(options, { origin: ORIGIN }),
        options.challenge,
      );
      if (!registration.ok) throw new Error('not registered');
      expect(registration).toMatchObject({ backupEligible: !deviceBound, aaguid: listed.aaguid });
      const request = await rp.authenticationOptions({ allowCredentials: [{ id: registration.credentialId }] });
      const assertion = authenticator.authenticate(request, { origin: ORIGIN });
      const verified = await rp.verifyAuthentication(assertion, request.challenge, {
        id: registration.credentialId,
        publicKey: registration.publicKey,
        counter: registration.counter,
      });
      expect(verified).toMatchObject({ ok: true, backedUp: !deviceBound, userVerified: true });
    }
  });

  it('lets a key whose statement fails register as unattested (withoutAttestation)', async () => {
    const options = await rp.registrationOptions({
      userHandle: new Uint8Array(32).fill(2),
      userName: 'bob',
      excludeCredentials: [],
    });
    const broken = brokenSignature(await key(listed).register(options, { origin: ORIGIN }));
    expect(await rp.verifyRegistration(broken, options.challenge)).toMatchObject({ ok: false, reason: 'invalid' });
    const stripped = withoutAttestation(broken);
    expect(await rp.verifyRegistration(stripped, options.challenge)).toMatchObject({ ok: true, aaguid: listed.aaguid });
    await expect(verifier.verify(stripped)).resolves.toMatchObject({
      attested: false,
      format: 'none',
      deviceBound: true,
    });
  });
});

/** The response with the last byte of its attestation statement's signature flipped. */
function brokenSignature(response: RegistrationResponseJSON): RegistrationResponseJSON {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { isoCBOR } = require('@simplewebauthn/server/helpers') as typeof import('@simplewebauthn/server/helpers');
  const decoded = isoCBOR.decodeFirst(
    new Uint8Array(Buffer.from(response.response.attestationObject, 'base64url')),
  ) as Map<string, any>;
  const statement = decoded.get('attStmt') as Map<string, any>;
  const signature = new Uint8Array(statement.get('sig'));
  signature[signature.length - 1] ^= 0x01;
  statement.set('sig', signature);
  return {
    ...response,
    response: {
      ...response.response,
      attestationObject: Buffer.from(isoCBOR.encode(decoded as never)).toString('base64url'),
    },
  };
}
