import 'reflect-metadata';
import { randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  X509Crl,
  X509CrlGenerator,
} from '@peculiar/x509';
import { CompactSign } from 'jose';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

/**
 * A test public-key infrastructure for the FIDO Metadata Service, on
 * @peculiar/x509 (certificates, CRLs) and jose (the blob's JWS): certificate
 * authorities, a blob signer under one of them, blobs signed with chosen
 * entries, statuses and nextUpdate, and authenticator models whose attestation
 * certificates come from a root of their own (see attesting-authenticator.ts).
 * Nothing here is checked by hand: what the service verifies is made by the same
 * maintained libraries a real vendor's tools would use.
 */

/** ES256 (P-256) keys, or RS256 (RSA 2048) keys as FIDO's own chain has. */
export type KeyKind = 'ES256' | 'RS256';
const KEYS = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
} as const;
const SIGNING = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
} as const;
const DAY_MS = 86_400_000;

export interface KeyAndCertificate {
  certificate: X509Certificate;
  keys: CryptoKeyPair;
}

export interface IssueOptions {
  /** A distinguished name, e.g. `CN=mds.example.test, O=Test`. */
  subject: string;
  /** A CA certificate (basicConstraints cA, keyCertSign). */
  ca?: boolean;
  /** A CRL distribution point the certificate names. */
  crlUrl?: string;
  /** The id-fido-gen-ce-aaguid extension (attestation certificates). */
  aaguid?: string;
  notBefore?: Date;
  notAfter?: Date;
}

const newKeys = (kind: KeyKind) =>
  webcrypto.subtle.generateKey(KEYS[kind], true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
const serial = () => `01${randomBytes(8).toString('hex')}`;

export class TestCertificateAuthority {
  private constructor(
    readonly certificate: X509Certificate,
    readonly keys: CryptoKeyPair,
    /** The kind of keys it makes and signs with. */
    readonly kind: KeyKind = 'ES256',
  ) {}

  /** A self-signed root. */
  static async create(
    name = 'Test Metadata Root',
    validity: { notBefore?: Date; notAfter?: Date } = {},
    kind: KeyKind = 'ES256',
  ) {
    const keys = await newKeys(kind);
    const certificate = await X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${name}, O=Twofactor Tests, C=US`,
      keys,
      signingAlgorithm: SIGNING[kind],
      notBefore: validity.notBefore ?? new Date(Date.now() - DAY_MS),
      notAfter: validity.notAfter ?? new Date(Date.now() + 3650 * DAY_MS),
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new TestCertificateAuthority(certificate, keys, kind);
  }

  /** A certificate issued by this authority, with a fresh key of its kind. */
  async issue(options: IssueOptions): Promise<KeyAndCertificate> {
    const keys = await newKeys(this.kind);
    const extensions: Extension[] = [
      new BasicConstraintsExtension(options.ca === true, undefined, true),
      new KeyUsagesExtension(
        options.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature,
        true,
      ),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ];
    if (options.crlUrl) extensions.push(new CRLDistributionPointsExtension([options.crlUrl]));
    if (options.aaguid) {
      // id-fido-gen-ce-aaguid: an OCTET STRING of the 16 bytes (FIDO's attestation certificate profile).
      const bytes = Buffer.from(options.aaguid.replace(/-/g, ''), 'hex');
      extensions.push(
        new Extension('1.3.6.1.4.1.45724.1.1.4', false, Buffer.concat([Buffer.from([0x04, 0x10]), bytes])),
      );
    }
    const certificate = await X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: options.subject,
      issuer: this.certificate.subject,
      notBefore: options.notBefore ?? new Date(Date.now() - DAY_MS),
      notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY_MS),
      signingAlgorithm: SIGNING[this.kind],
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions,
    });
    return { certificate, keys };
  }

  /** A sub-authority (an intermediate CA) under this one. */
  async intermediate(name: string, crlUrl?: string): Promise<TestCertificateAuthority> {
    const { certificate, keys } = await this.issue({
      subject: `CN=${name}, O=Twofactor Tests, C=US`,
      ca: true,
      crlUrl,
    });
    return new TestCertificateAuthority(certificate, keys, this.kind);
  }

  /** A revocation list of this authority. */
  async crl(options: { revoked?: X509Certificate[]; nextUpdate?: Date; thisUpdate?: Date } = {}): Promise<X509Crl> {
    return X509CrlGenerator.create({
      issuer: this.certificate.subject,
      thisUpdate: options.thisUpdate ?? new Date(Date.now() - DAY_MS),
      nextUpdate: options.nextUpdate ?? new Date(Date.now() + 30 * DAY_MS),
      entries: (options.revoked ?? []).map((certificate) => ({
        serialNumber: certificate.serialNumber,
        revocationDate: new Date(Date.now() - DAY_MS),
      })),
      signingAlgorithm: SIGNING[this.kind],
      signingKey: this.keys.privateKey,
    });
  }

  pem(): string {
    return this.certificate.toString('pem');
  }
}

// ---- The Metadata Service blob (MDS3: a JWS whose header carries the signer's chain in x5c)

export interface ModelEntryOptions {
  aaguid: string;
  name: string;
  /** The model's attestation roots (metadataStatement.attestationRootCertificates). */
  roots: X509Certificate[];
  /** Status reports, oldest first (default: FIDO_CERTIFIED_L1). */
  statuses?: string[];
}

/** One entry of a blob: an FIDO2 model with its statement and status reports. */
export function modelEntry(options: ModelEntryOptions): Record<string, unknown> {
  return {
    aaguid: options.aaguid,
    metadataStatement: {
      legalHeader: 'Test statement.',
      aaguid: options.aaguid,
      description: options.name,
      authenticatorVersion: 1,
      protocolFamily: 'fido2',
      schema: 3,
      upv: [{ major: 1, minor: 0 }],
      authenticationAlgorithms: ['secp256r1_ecdsa_sha256_raw'],
      publicKeyAlgAndEncodings: ['cose'],
      attestationTypes: ['basic_full'],
      userVerificationDetails: [[{ userVerificationMethod: 'presence_internal' }]],
      keyProtection: ['hardware', 'secure_element'],
      matcherProtection: ['on_chip'],
      attachmentHint: ['external', 'wired'],
      tcDisplay: [],
      attestationRootCertificates: options.roots.map((root) => Buffer.from(root.rawData).toString('base64')),
      icon: 'data:image/png;base64,iVBORw0KGgo=',
    },
    statusReports: (options.statuses ?? ['FIDO_CERTIFIED_L1']).map((status, index) => ({
      status,
      effectiveDate: `2025-0${Math.min(index + 1, 9)}-01`,
    })),
    timeOfLastStatusChange: '2025-01-01',
  };
}

/** A day as MDS writes nextUpdate: YYYY-MM-DD (UTC). */
export const mdsDate = (date: Date) => date.toISOString().slice(0, 10);

export interface BlobOptions {
  no: number;
  /** Default: 30 days from now. */
  nextUpdate?: Date;
  entries: Record<string, unknown>[];
}

export function blobPayload(options: BlobOptions): Record<string, unknown> {
  return {
    legalHeader: 'Test blob: not the FIDO Alliance Metadata Service.',
    no: options.no,
    nextUpdate: mdsDate(options.nextUpdate ?? new Date(Date.now() + 30 * DAY_MS)),
    entries: options.entries,
  };
}

/** Signs `payload` as an MDS3 blob (ES256 or RS256 by the signer's key), the signer's certificate then `intermediates` in x5c. */
export async function signBlob(
  payload: Record<string, unknown>,
  signer: KeyAndCertificate,
  intermediates: X509Certificate[] = [],
): Promise<string> {
  const alg = signer.keys.privateKey.algorithm.name === 'ECDSA' ? 'ES256' : 'RS256';
  const x5c = [signer.certificate, ...intermediates].map((certificate) =>
    Buffer.from(certificate.rawData).toString('base64'),
  );
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, typ: 'JWT', x5c })
    .sign(signer.keys.privateKey);
}

/** `jwt` with its payload replaced (the signature kept): what an attacker who edits a blob sends. */
export function tamperedBlob(jwt: string, change: (payload: any) => void): string {
  const [header, payload, signature] = jwt.split('.');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  change(decoded);
  return [header, Buffer.from(JSON.stringify(decoded)).toString('base64url'), signature].join('.');
}

/**
 * The usual cast: a Metadata Service root, an intermediate, a blob signer
 * under it, and helpers to sign blobs and write the files the settings name.
 */
export class TestMetadataService {
  readonly folder = mkdtempSync(join(tmpdir(), 'tf-mds-'));

  private constructor(
    readonly root: TestCertificateAuthority,
    readonly intermediate: TestCertificateAuthority,
    readonly signer: KeyAndCertificate,
  ) {}

  static async create(options: { signerCrlUrl?: string; intermediateCrlUrl?: string; kind?: KeyKind } = {}) {
    const root = await TestCertificateAuthority.create('Test Metadata Root', {}, options.kind);
    const intermediate = await root.intermediate('Test Metadata CA', options.intermediateCrlUrl);
    const signer = await intermediate.issue({
      subject: 'CN=mds.example.test, O=Twofactor Tests, C=US',
      crlUrl: options.signerCrlUrl,
    });
    return new TestMetadataService(root, intermediate, signer);
  }

  /** A blob signed by this service's signer (chain: signer, intermediate). */
  sign(options: BlobOptions): Promise<string> {
    return signBlob(blobPayload(options), this.signer, [this.intermediate.certificate]);
  }

  /** Writes `content` to a file of this cast's folder; its path. */
  file(name: string, content: string | Uint8Array): string {
    const path = join(this.folder, name);
    writeFileSync(path, content);
    return path;
  }

  /** The root as the PEM file FIDO_MDS_ROOT_CERT names. */
  rootFile(): string {
    return this.file('root.pem', this.root.pem());
  }

  /** The settings of a service that trusts this root and loads `blob` at start. */
  env(blob?: string): Record<string, string> {
    return {
      FIDO_MDS_ROOT_CERT: this.rootFile(),
      ...(blob ? { FIDO_MDS_BLOB_FILE: this.file(`blob-${randomUUID()}.jwt`, blob) } : {}),
    };
  }
}

/** A model of security key: its AAGUID, its attestation root, and an attestation certificate issued from it. */
export class TestAuthenticatorModel {
  private constructor(
    readonly aaguid: string,
    readonly name: string,
    readonly root: TestCertificateAuthority,
    readonly attestation: KeyAndCertificate,
  ) {}

  static async create(name: string, aaguid: string = randomUUID()): Promise<TestAuthenticatorModel> {
    const root = await TestCertificateAuthority.create(`${name} Attestation Root`);
    const attestation = await root.issue({
      subject: `CN=${name} Attestation, OU=Authenticator Attestation, O=Twofactor Tests, C=US`,
      aaguid,
    });
    return new TestAuthenticatorModel(aaguid, name, root, attestation);
  }

  /** Its entry in a blob, with these status reports. */
  entry(statuses?: string[]): Record<string, unknown> {
    return modelEntry({ aaguid: this.aaguid, name: this.name, roots: [this.root.certificate], statuses });
  }
}
