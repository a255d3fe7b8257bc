import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from '@peculiar/x509';
import { readMetadataTrust, readStartupBlob, FIDO_MDS_SIGNER } from '../../src/authenticators/metadata-settings';
import { GLOBALSIGN_ROOT_CA_R3 } from '../../src/authenticators/roots/globalsign-root-ca-r3';
import { ConfigError, loadConfig, type Config } from '../../src/config/config';
import { TestAuthenticatorModel, TestMetadataService } from '../support/metadata-ca';

const DAY_MS = 86_400_000;
const settings = (env: Record<string, string> = {}): Config['metadataService'] =>
  loadConfig({ DATA_DIR: '/tmp/tf-test-data-settings', ...env }).metadataService;

describe('the Metadata Service settings', () => {
  it('reads FIDO_MDS_* with the contract defaults', () => {
    expect(settings()).toEqual({ blobFile: undefined, rootCertFile: undefined, crlFiles: [], maxAgeDays: 60 });
    expect(
      settings({
        FIDO_MDS_BLOB_FILE: '/srv/mds/blob.jwt',
        FIDO_MDS_ROOT_CERT: '/srv/mds/root.pem',
        FIDO_MDS_CRLS: '/srv/mds/a.crl, /srv/mds/b.crl',
        FIDO_MDS_MAX_AGE_DAYS: '30',
      }),
    ).toEqual({
      blobFile: '/srv/mds/blob.jwt',
      rootCertFile: '/srv/mds/root.pem',
      crlFiles: ['/srv/mds/a.crl', '/srv/mds/b.crl'],
      maxAgeDays: 30,
    });
    expect(() => settings({ FIDO_MDS_MAX_AGE_DAYS: 'soon' })).toThrow(ConfigError);
    expect(() => settings({ FIDO_MDS_MAX_AGE_DAYS: '-1' })).toThrow(/FIDO_MDS_MAX_AGE_DAYS/);
  });

  it('keeps the root FIDO publishes in the repository: GlobalSign Root CA R3, by its fingerprint', async () => {
    const root = new X509Certificate(GLOBALSIGN_ROOT_CA_R3);
    const fingerprint = Buffer.from(await root.getThumbprint('SHA-256')).toString('hex');
    // As FIDO and GlobalSign publish it.
    expect(fingerprint).toBe('cbb522d7b7f127ad6a0113865bdf1cd4102e7d0759af635a7cf4720dc963c53b');
    expect(root.subject).toBe('OU=GlobalSign Root CA - R3, O=GlobalSign, CN=GlobalSign');
    // The same certificate as the operating system's copy, where the machine has one.
    const system = '/etc/ssl/certs/GlobalSign_Root_CA_-_R3.pem';
    if (existsSync(system)) expect(root.equal(new X509Certificate(readFileSync(system, 'utf8')))).toBe(true);
  });

  it('trusts the built-in root by default, and then only a blob signed for mds.fidoalliance.org', () => {
    const trust = readMetadataTrust(settings());
    expect(trust.anchors.map((anchor) => anchor.subject)).toEqual([
      'OU=GlobalSign Root CA - R3, O=GlobalSign, CN=GlobalSign',
    ]);
    expect(trust.signerName).toBe(FIDO_MDS_SIGNER);
    expect(FIDO_MDS_SIGNER).toBe('mds.fidoalliance.org');
    expect(trust).toMatchObject({ crls: [], maxAgeDays: 60 });
  });

  it('trusts the roots of FIDO_MDS_ROOT_CERT instead, with any signer they issued for', async () => {
    const mds = await TestMetadataService.create();
    const other = await TestMetadataService.create();
    const file = mds.file('roots.pem', `${mds.root.pem()}\n${other.root.pem()}\n`);
    const trust = readMetadataTrust(settings({ FIDO_MDS_ROOT_CERT: file }));
    expect(trust.anchors.map((anchor) => anchor.subject)).toEqual([
      mds.root.certificate.subject,
      other.root.certificate.subject,
    ]);
    expect(trust.signerName).toBeUndefined();
  });

  it('reads the revocation lists of FIDO_MDS_CRLS, PEM or DER', async () => {
    const mds = await TestMetadataService.create();
    const crl = await mds.intermediate.crl();
    const pem = mds.file('a.crl', crl.toString('pem'));
    const der = mds.file('b.crl', new Uint8Array(crl.rawData));
    const trust = readMetadataTrust(settings({ FIDO_MDS_ROOT_CERT: mds.rootFile(), FIDO_MDS_CRLS: `${pem},${der}` }));
    expect(trust.crls.map((list) => list.issuer)).toEqual([crl.issuer, crl.issuer]);
  });

  it('refuses to start on a root or revocation list it cannot read, naming the setting', async () => {
    const mds = await TestMetadataService.create();
    const refusal = (env: Record<string, string>) => {
      try {
        readMetadataTrust(settings(env));
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('not refused');
    };
    expect(refusal({ FIDO_MDS_ROOT_CERT: '/nonexistent/root.pem' })).toMatch(
      /FIDO_MDS_ROOT_CERT: .*\/nonexistent\/root\.pem/,
    );
    expect(refusal({ FIDO_MDS_ROOT_CERT: mds.file('empty.pem', 'no certificate here\n') })).toMatch(
      /FIDO_MDS_ROOT_CERT: .*no certificate/,
    );
    expect(refusal({ FIDO_MDS_CRLS: '/nonexistent/a.crl' })).toMatch(/FIDO_MDS_CRLS: .*\/nonexistent\/a\.crl/);
    expect(refusal({ FIDO_MDS_CRLS: mds.file('junk.crl', 'junk') })).toMatch(/FIDO_MDS_CRLS: .*revocation list/);
  });

  describe('the blob of FIDO_MDS_BLOB_FILE at start', () => {
    let mds: TestMetadataService;
    let key: TestAuthenticatorModel;
    beforeAll(async () => {
      mds = await TestMetadataService.create();
      key = await TestAuthenticatorModel.create('Start Key');
    });

    const startWith = (blob: string | undefined, env: Record<string, string> = {}) => {
      const config = settings({ ...mds.env(blob), ...env });
      return readStartupBlob(config, readMetadataTrust(config), new Date());
    };

    it('is verified and handed over', async () => {
      const verified = await startWith(await mds.sign({ no: 3, entries: [key.entry()] }));
      expect(verified).toMatchObject({ no: 3, models: [expect.objectContaining({ aaguid: key.aaguid })] });
    });

    it('is none when FIDO_MDS_BLOB_FILE is unset', async () => {
      await expect(startWith(undefined)).resolves.toBeNull();
    });

    it.each([
      [
        'stale',
        () => mds.sign({ no: 4, nextUpdate: new Date(Date.now() - 90 * DAY_MS), entries: [] }),
        /FIDO_MDS_MAX_AGE_DAYS/,
      ],
      ['tampered', async () => `${await mds.sign({ no: 5, entries: [] })}x`, /signature/],
      [
        'from another root',
        async () => (await TestMetadataService.create()).sign({ no: 6, entries: [] }),
        /trusted root/,
      ],
    ])('refuses the start when it is %s, naming the setting and why', async (_, blob, why) => {
      const refused = await startWith(await blob()).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as Error).message).toMatch(/FIDO_MDS_BLOB_FILE: /);
      expect((refused as Error).message).toMatch(why);
    });

    it('refuses the start when the file cannot be read', async () => {
      const refused = await readStartupBlob(
        { blobFile: '/nonexistent/blob.jwt', crlFiles: [], maxAgeDays: 60 },
        readMetadataTrust(settings()),
        new Date(),
      ).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConfigError);
      expect((refused as Error).message).toMatch(/FIDO_MDS_BLOB_FILE: .*\/nonexistent\/blob\.jwt/);
    });
  });
});
