import 'reflect-metadata';
import { SubjectAlternativeNameExtension, X509Certificate, type X509Crl } from '@peculiar/x509';
import { compactVerify, decodeProtectedHeader, importX509, type ProtectedHeaderParameters } from 'jose';
import { z } from 'zod';
import { CertificatePathError, verifyCertificatePath } from './certificate-path';

/**
 * The FIDO Metadata Service blob (MDS3): a JWS whose header carries the
 * signer's certificate chain (x5c), whose payload lists authenticator models.
 * Verified here, the way the MDS3 specification asks, with maintained
 * libraries: jose checks the signature with the signer certificate's key,
 * @peculiar/x509 the chain to the trusted root (certificate-path.ts), and the
 * revocation lists given. Then the payload's shape (zod) and its staleness.
 *
 * @simplewebauthn/server's MetadataService only verifies blobs it downloads
 * itself, against process-wide roots, fetching CRLs; a blob handed over from
 * a file is verified here instead.
 */

export class MetadataBlobError extends Error {
  override readonly name = 'MetadataBlobError';
}

export interface MetadataTrust {
  /** The roots the signer's chain must lead to (FIDO_MDS_ROOT_CERT). */
  anchors: X509Certificate[];
  /** Revocation lists for the chain's certificates (FIDO_MDS_CRLS). */
  crls: X509Crl[];
  /**
   * When set, the signer certificate must name this host (a DNS name or its
   * common name): the default root is a public TLS root, which certifies many
   * hosts besides FIDO's (metadata-settings.ts).
   */
  signerName?: string;
  /** FIDO_MDS_MAX_AGE_DAYS. */
  maxAgeDays: number;
}

/** What the service keeps of a model (an entry with an AAGUID). */
export interface ModelEntry {
  /** Lower case, with dashes. */
  aaguid: string;
  name: string;
  /** FIDO_CERTIFIED, FIDO_CERTIFIED_L1 ... as reported, oldest first. */
  certifications: string[];
  compromised: boolean;
  /** The model's attestation roots, base64 DER, as the statement gives them. */
  attestationRoots: string[];
}

export interface VerifiedMetadataBlob {
  no: number;
  /** Midnight UTC of the blob's nextUpdate day. */
  nextUpdate: Date;
  /** Every entry of the blob, with an AAGUID or not (U2F and UAF entries have none). */
  entries: number;
  models: ModelEntry[];
  /** What was not checked (a revocation list not given), for the log. */
  warnings: string[];
}

/**
 * Status reports that make a model never count: the contract's list. Other
 * reports (UPDATE_AVAILABLE, certification levels) do not; a later report does
 * not lift a compromise, since keys already made stay what they are.
 */
export const COMPROMISE_STATUSES: ReadonlySet<string> = new Set([
  'ATTESTATION_KEY_COMPROMISE',
  'USER_VERIFICATION_BYPASS',
  'USER_KEY_REMOTE_COMPROMISE',
  'USER_KEY_PHYSICAL_COMPROMISE',
  'REVOKED',
]);

const CERTIFICATION = /^FIDO_CERTIFIED(_L[1-9](plus)?)?$/;
/** Signature algorithms a blob may use (MDS3 names RS256 and ES256; their relatives are as strong). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const DAY_MS = 86_400_000;
/** A model's name as kept (the database column's size). */
export const MODEL_NAME_MAX_LENGTH = 255;
const MAX_CHAIN = 8;

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64');
const payloadSchema = z.object({
  no: z.number().int().positive(),
  nextUpdate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD'),
  entries: z.array(
    z.looseObject({
      aaguid: z
        .string()
        .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID')
        .optional(),
      metadataStatement: z
        .looseObject({
          description: z.string().optional(),
          friendlyNames: z.record(z.string(), z.string()).optional(),
          attestationRootCertificates: z.array(base64).optional(),
        })
        .optional(),
      statusReports: z.array(z.looseObject({ status: z.string() })).optional(),
    }),
  ),
});

export async function verifyMetadataBlob(jwt: string, trust: MetadataTrust, now: Date): Promise<VerifiedMetadataBlob> {
  const text = jwt.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text)) {
    throw new MetadataBlobError('not a JWT (header.payload.signature, base64url)');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(text);
  } catch (error) {
    throw new MetadataBlobError(`its header cannot be read: ${describe(error)}`);
  }
  if (typeof header.alg !== 'string' || !ALGORITHMS.includes(header.alg)) {
    throw new MetadataBlobError(`its alg ${JSON.stringify(header.alg)} is not one of ${ALGORITHMS.join(', ')}`);
  }
  const x5c = header.x5c;
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN) {
    throw new MetadataBlobError('its header carries no certificate chain (x5c); x5u is not supported');
  }
  let chain: X509Certificate[];
  try {
    chain = x5c.map((certificate) => {
      if (typeof certificate !== 'string' || !base64.safeParse(certificate).success) throw new Error('not base64');
      return new X509Certificate(Buffer.from(certificate, 'base64'));
    });
  } catch (error) {
    throw new MetadataBlobError(`a certificate of its chain (x5c) cannot be read: ${describe(error)}`);
  }

  let unchecked: Awaited<ReturnType<typeof verifyCertificatePath>>['unchecked'];
  try {
    ({ unchecked } = await verifyCertificatePath(chain, trust.anchors, { at: now, crls: trust.crls }));
  } catch (error) {
    if (error instanceof CertificatePathError) throw new MetadataBlobError(error.message);
    throw error;
  }
  if (trust.signerName && !names(chain[0]).includes(trust.signerName)) {
    throw new MetadataBlobError(`its signer "${chain[0].subject}" is not ${trust.signerName}`);
  }

  let payloadBytes: Uint8Array;
  try {
    const key = await importX509(chain[0].toString('pem'), header.alg);
    ({ payload: payloadBytes } = await compactVerify(text, key, { algorithms: [header.alg] }));
  } catch (error) {
    throw new MetadataBlobError(`its signature does not verify with its signer's key (${describe(error)})`);
  }

  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(payloadBytes).toString('utf8'));
  } catch {
    throw new MetadataBlobError('its payload is not JSON');
  }
  const parsed = payloadSchema.safeParse(decoded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MetadataBlobError(`its payload is not an MDS3 blob: ${issue.path.join('.')}: ${issue.message}`);
  }
  const payload = parsed.data;
  const nextUpdate = new Date(`${payload.nextUpdate}T00:00:00Z`);
  if (Number.isNaN(nextUpdate.getTime()))
    throw new MetadataBlobError(`its nextUpdate ${payload.nextUpdate} is no date`);
  if (now.getTime() - nextUpdate.getTime() > trust.maxAgeDays * DAY_MS) {
    throw new MetadataBlobError(
      `it is stale: its nextUpdate ${payload.nextUpdate} passed more than ${trust.maxAgeDays} days ago (FIDO_MDS_MAX_AGE_DAYS); load a newer one`,
    );
  }

  const models = new Map<string, ModelEntry>();
  for (const entry of payload.entries) {
    if (!entry.aaguid) continue;
    const aaguid = entry.aaguid.toLowerCase();
    const statuses = (entry.statusReports ?? []).map((report) => report.status);
    const statement = entry.metadataStatement;
    const name = (statement?.friendlyNames?.['en-US'] ?? statement?.description ?? aaguid).trim() || aaguid;
    models.set(aaguid, {
      aaguid,
      name: name.slice(0, MODEL_NAME_MAX_LENGTH),
      certifications: [...new Set(statuses.filter((status) => CERTIFICATION.test(status)))],
      compromised: statuses.some((status) => COMPROMISE_STATUSES.has(status)),
      attestationRoots: statement?.attestationRootCertificates ?? [],
    });
  }
  return {
    no: payload.no,
    nextUpdate,
    entries: payload.entries.length,
    models: [...models.values()],
    warnings: unchecked.map(
      ({ subject, urls }) =>
        `revocation of "${subject}" in the Metadata Service blob's chain was not checked: no revocation list given for ${urls.join(', ')} (FIDO_MDS_CRLS)`,
    ),
  };
}

/** The names a certificate is for: its DNS names and its common name. */
function names(certificate: X509Certificate): string[] {
  let dns: string[] = [];
  try {
    const alternative = certificate.getExtension(SubjectAlternativeNameExtension);
    dns = (alternative?.names.items ?? []).filter((item) => item.type === 'dns').map((item) => item.value);
  } catch {
    // A subjectAltName it cannot read (an otherName): the common name alone.
  }
  return [...dns, ...certificate.subjectName.getField('CN')];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
