import 'reflect-metadata';
import type { X509Crl } from '@peculiar/x509';
import { MetadataBlobError, verifyMetadataBlob, type MetadataTrust } from '../../src/authenticators/metadata-blob';
import {
  blobPayload,
  mdsDate,
  signBlob,
  tamperedBlob,
  TestAuthenticatorModel,
  TestCertificateAuthority,
  TestMetadataService,
} from '../support/metadata-ca';

const DAY_MS = 86_400_000;
const COMPROMISES = [
  'ATTESTATION_KEY_COMPROMISE',
  'USER_VERIFICATION_BYPASS',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'REVOKED',
];

describe('verifying a Metadata Service blob', () => {
  let mds: TestMetadataService;
  let key: TestAuthenticatorModel;
  let trust: MetadataTrust;
  const now = () => new Date();

  beforeAll(async () => {
    mds = await TestMetadataService.create();
    key = await TestAuthenticatorModel.create('Test Key 5');
    trust = { anchors: [mds.root.certificate], crls: [], maxAgeDays: 60 };
  });

  it('takes a blob signed under the root: its number, next update and models', async () => {
    const nextUpdate = new Date(Date.now() + 20 * DAY_MS);
    const blob = await mds.sign({ no: 7, nextUpdate, entries: [key.entry(['FIDO_CERTIFIED', 'FIDO_CERTIFIED_L2'])] });
    const verified = await verifyMetadataBlob(blob, trust, now());
    expect(verified).toMatchObject({ no: 7, entries: 1, warnings: [] });
    expect(mdsDate(verified.nextUpdate)).toBe(mdsDate(nextUpdate));
    expect(verified.models).toEqual([
      {
        aaguid: key.aaguid,
        name: 'Test Key 5',
        certifications: ['FIDO_CERTIFIED', 'FIDO_CERTIFIED_L2'],
        compromised: false,
        attestationRoots: [Buffer.from(key.root.certificate.rawData).toString('base64')],
      },
    ]);
  });

  it('takes an RS256 blob under an RSA root, as FIDO signs its own', async () => {
    const rsa = await TestMetadataService.create({ kind: 'RS256' });
    const blob = await rsa.sign({ no: 6, entries: [key.entry()] });
    expect(JSON.parse(Buffer.from(blob.split('.')[0], 'base64url').toString()).alg).toBe('RS256');
    const verified = await verifyMetadataBlob(blob, { ...trust, anchors: [rsa.root.certificate] }, now());
    expect(verified).toMatchObject({ no: 6, models: [expect.objectContaining({ aaguid: key.aaguid })] });
    await expect(verifyMetadataBlob(blob, trust, now())).rejects.toThrow(/trusted root/);
  });

  it('counts every entry, and lists as models only those with an AAGUID', async () => {
    const u2f = {
      attestationCertificateKeyIdentifiers: ['0123456789abcdef0123456789abcdef01234567'],
      statusReports: [],
    };
    const blob = await mds.sign({ no: 8, entries: [key.entry(), u2f] });
    const verified = await verifyMetadataBlob(blob, trust, now());
    expect(verified.entries).toBe(2);
    expect(verified.models.map((model) => model.aaguid)).toEqual([key.aaguid]);
  });

  it('refuses a tampered blob: its signature does not verify', async () => {
    const blob = await mds.sign({ no: 9, entries: [key.entry(['FIDO_CERTIFIED_L1', 'USER_VERIFICATION_BYPASS'])] });
    // An attacker drops the compromise report.
    const tampered = tamperedBlob(blob, (payload) => payload.entries[0].statusReports.pop());
    await expect(verifyMetadataBlob(tampered, trust, now())).rejects.toThrow(/signature/);
    await expect(verifyMetadataBlob(tampered, trust, now())).rejects.toBeInstanceOf(MetadataBlobError);
  });

  it('refuses a blob whose chain leads to another root', async () => {
    const other = await TestMetadataService.create();
    const blob = await other.sign({ no: 10, entries: [key.entry()] });
    await expect(verifyMetadataBlob(blob, trust, now())).rejects.toThrow(/trusted root/);
  });

  it('refuses a blob signed by a self-signed certificate (its own root)', async () => {
    const selfSigned = await TestCertificateAuthority.create('Self Signed Signer');
    const blob = await signBlob(blobPayload({ no: 11, entries: [] }), selfSigned);
    await expect(verifyMetadataBlob(blob, trust, now())).rejects.toThrow(/trusted root/);
  });

  it('refuses a blob whose signer does not name the expected host, when one is expected', async () => {
    const blob = await mds.sign({ no: 12, entries: [key.entry()] });
    await expect(verifyMetadataBlob(blob, { ...trust, signerName: 'mds.fidoalliance.org' }, now())).rejects.toThrow(
      /mds\.fidoalliance\.org/,
    );
    await expect(verifyMetadataBlob(blob, { ...trust, signerName: 'mds.example.test' }, now())).resolves.toMatchObject({
      no: 12,
    });
  });

  it('refuses a stale blob: nextUpdate passed more than FIDO_MDS_MAX_AGE_DAYS ago', async () => {
    const stale = await mds.sign({ no: 13, nextUpdate: new Date(Date.now() - 61 * DAY_MS), entries: [key.entry()] });
    await expect(verifyMetadataBlob(stale, trust, now())).rejects.toThrow(/FIDO_MDS_MAX_AGE_DAYS/);
    const late = await mds.sign({ no: 14, nextUpdate: new Date(Date.now() - 59 * DAY_MS), entries: [key.entry()] });
    await expect(verifyMetadataBlob(late, trust, now())).resolves.toMatchObject({ no: 14 });
    // The same blob on a later day (the clock moved): stale.
    await expect(verifyMetadataBlob(late, trust, new Date(Date.now() + 2 * DAY_MS))).rejects.toThrow(/stale|passed/);
    // 0 days: refused the day after its nextUpdate.
    const yesterday = await mds.sign({ no: 15, nextUpdate: new Date(Date.now() - 2 * DAY_MS), entries: [] });
    await expect(verifyMetadataBlob(yesterday, { ...trust, maxAgeDays: 0 }, now())).rejects.toThrow(/passed/);
  });

  it.each(COMPROMISES)('marks a model reported %s compromised', async (status) => {
    const blob = await mds.sign({ no: 16, entries: [key.entry(['FIDO_CERTIFIED_L1', status])] });
    const [model] = (await verifyMetadataBlob(blob, trust, now())).models;
    expect(model).toMatchObject({ aaguid: key.aaguid, compromised: true, certifications: ['FIDO_CERTIFIED_L1'] });
  });

  it('does not mark a model compromised for other reports (an update available)', async () => {
    const blob = await mds.sign({ no: 17, entries: [key.entry(['FIDO_CERTIFIED_L1', 'UPDATE_AVAILABLE'])] });
    const [model] = (await verifyMetadataBlob(blob, trust, now())).models;
    expect(model.compromised).toBe(false);
  });

  it('refuses what is not a signed MDS3 blob, saying what is wrong', async () => {
    const good = await mds.sign({ no: 18, entries: [] });
    const [header, payload] = good.split('.');
    const withHeader = (fields: Record<string, unknown>) =>
      [Buffer.from(JSON.stringify(fields)).toString('base64url'), payload, 'c2ln'].join('.');
    const x5c = JSON.parse(Buffer.from(header, 'base64url').toString()).x5c;
    const cases: [string, RegExp][] = [
      ['', /not a JWT/],
      ['a.b', /not a JWT/],
      [`${header}.${payload}.`, /not a JWT/],
      [withHeader({ alg: 'none', x5c }), /alg/],
      [withHeader({ alg: 'HS256', x5c }), /alg/],
      [withHeader({ alg: 'ES256', x5u: 'https://mds.example.test/chain.pem' }), /x5c/],
      [withHeader({ alg: 'ES256', x5c: ['not a certificate'] }), /certificate/],
      [withHeader({ alg: 'RS256', x5c }), /signature|alg/],
    ];
    for (const [blob, message] of cases) {
      await expect(verifyMetadataBlob(blob, trust, now())).rejects.toThrow(message);
    }
    const missingNumber = blobPayload({ no: 19, entries: [] });
    delete missingNumber.no;
    await expect(
      verifyMetadataBlob(await signBlob(missingNumber, mds.signer, [mds.intermediate.certificate]), trust, now()),
    ).rejects.toThrow(/no/);
    const badAaguid = await mds.sign({ no: 20, entries: [{ ...key.entry(), aaguid: 'not-an-aaguid' }] });
    await expect(verifyMetadataBlob(badAaguid, trust, now())).rejects.toThrow(/aaguid/);
  });

  it('refuses a blob whose signer certificate has expired', async () => {
    const expired = await mds.intermediate.issue({
      subject: 'CN=mds.example.test, O=Twofactor Tests, C=US',
      notBefore: new Date(Date.now() - 40 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    const blob = await signBlob(blobPayload({ no: 21, entries: [] }), expired, [mds.intermediate.certificate]);
    await expect(verifyMetadataBlob(blob, trust, now())).rejects.toThrow(/valid/);
  });

  describe('revocation lists (FIDO_MDS_CRLS)', () => {
    let named: TestMetadataService;
    let anchored: MetadataTrust;
    let blob: string;

    beforeAll(async () => {
      named = await TestMetadataService.create({
        signerCrlUrl: 'http://crl.example.test/metadata-ca.crl',
        intermediateCrlUrl: 'http://crl.example.test/root.crl',
      });
      anchored = { anchors: [named.root.certificate], crls: [], maxAgeDays: 60 };
      blob = await named.sign({ no: 30, entries: [key.entry()] });
    });

    const withCrls = (...crls: X509Crl[]) => ({ ...anchored, crls });

    it('skips the check with a warning naming the list when none is given', async () => {
      const verified = await verifyMetadataBlob(blob, anchored, now());
      expect(verified.warnings).toEqual([
        expect.stringContaining('http://crl.example.test/metadata-ca.crl'),
        expect.stringContaining('http://crl.example.test/root.crl'),
      ]);
      expect(verified.warnings.join('\n')).toMatch(/FIDO_MDS_CRLS/);
    });

    it('checks the chain against the lists given, and warns only about the ones missing', async () => {
      const verified = await verifyMetadataBlob(blob, withCrls(await named.intermediate.crl()), now());
      expect(verified.warnings).toEqual([expect.stringContaining('http://crl.example.test/root.crl')]);
      const both = await verifyMetadataBlob(
        blob,
        withCrls(await named.intermediate.crl(), await named.root.crl()),
        now(),
      );
      expect(both.warnings).toEqual([]);
    });

    it('refuses a blob whose signer certificate is revoked', async () => {
      const crl = await named.intermediate.crl({ revoked: [named.signer.certificate] });
      await expect(verifyMetadataBlob(blob, withCrls(crl), now())).rejects.toThrow(/revoked/);
    });

    it('refuses a blob whose intermediate is revoked by the root', async () => {
      const crl = await named.root.crl({ revoked: [named.intermediate.certificate] });
      await expect(verifyMetadataBlob(blob, withCrls(crl), now())).rejects.toThrow(/revoked/);
    });

    it('refuses when a list given for the chain is out of date', async () => {
      const crl = await named.intermediate.crl({
        thisUpdate: new Date(Date.now() - 20 * DAY_MS),
        nextUpdate: new Date(Date.now() - DAY_MS),
      });
      await expect(verifyMetadataBlob(blob, withCrls(crl), now())).rejects.toThrow(/out of date/);
    });

    it("refuses a list that names the chain's issuer but is not signed by it", async () => {
      // Another authority with the same name: its list claims to be the Metadata CA's.
      const impostor = await TestCertificateAuthority.create('Test Metadata CA');
      const crl = await impostor.crl();
      expect(crl.issuer).toBe(named.intermediate.certificate.subject);
      await expect(verifyMetadataBlob(blob, withCrls(crl), now())).rejects.toThrow(/does not verify/);
    });
  });
});
