import 'reflect-metadata';
import { readFileSync, statSync } from 'node:fs';
import { PemConverter, X509Certificate, X509Crl } from '@peculiar/x509';
import { ConfigError, type Config } from '../config/config';
import { LIMITS } from '../limits';
import { MetadataBlobError, verifyMetadataBlob, type MetadataTrust, type VerifiedMetadataBlob } from './metadata-blob';
import { GLOBALSIGN_ROOT_CA_R3 } from './roots/globalsign-root-ca-r3';

export type MetadataSettings = Config['metadataService'];

/**
 * The host FIDO's blob is signed for. GlobalSign Root CA R3 is a public TLS
 * root: any certificate it issued, for any host, chains to it. With the
 * built-in root, only a signer for this host is FIDO's. An operator who names
 * a root of their own (FIDO_MDS_ROOT_CERT) trusts whatever it certifies.
 */
export const FIDO_MDS_SIGNER = 'mds.fidoalliance.org';

const describe = (error: unknown) =>
  (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message : String(error));

/** Every CERTIFICATE block of a PEM text. */
function certificatesOf(pem: string): X509Certificate[] {
  return PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === PemConverter.CertificateTag)
    .map((block) => new X509Certificate(block.rawData));
}

/** The roots and revocation lists of the settings, read once at start; a file it cannot use refuses the start. */
export function readMetadataTrust(settings: MetadataSettings): MetadataTrust {
  const problems: string[] = [];
  let anchors: X509Certificate[] = [];
  if (settings.rootCertFile) {
    try {
      anchors = certificatesOf(readFileSync(settings.rootCertFile, 'utf8'));
    } catch (error) {
      problems.push(
        `FIDO_MDS_ROOT_CERT: ${settings.rootCertFile} cannot be read as PEM certificates (${describe(error)})`,
      );
    }
    if (problems.length === 0 && anchors.length === 0) {
      problems.push(`FIDO_MDS_ROOT_CERT: ${settings.rootCertFile} holds no certificate (a PEM file is expected)`);
    }
  } else {
    anchors = certificatesOf(GLOBALSIGN_ROOT_CA_R3);
  }
  const crls: X509Crl[] = [];
  for (const file of settings.crlFiles) {
    try {
      const content = readFileSync(file);
      const pem = content.subarray(0, 64).toString('latin1').includes('-----BEGIN');
      crls.push(new X509Crl(pem ? content.toString('utf8') : new Uint8Array(content)));
    } catch (error) {
      problems.push(`FIDO_MDS_CRLS: ${file} cannot be read as a revocation list, PEM or DER (${describe(error)})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    anchors,
    crls,
    signerName: settings.rootCertFile ? undefined : FIDO_MDS_SIGNER,
    maxAgeDays: settings.maxAgeDays,
  };
}

/**
 * The blob of FIDO_MDS_BLOB_FILE, verified and fresh, or null when none is set.
 * One that cannot be read, does not verify or is stale refuses the start
 * (ConfigError, as a wrong setting), before anything else opens.
 */
export async function readStartupBlob(
  settings: MetadataSettings,
  trust: MetadataTrust,
  now: Date,
): Promise<VerifiedMetadataBlob | null> {
  if (!settings.blobFile) return null;
  const refuse = (why: string) => new ConfigError([`FIDO_MDS_BLOB_FILE: ${settings.blobFile}: ${why}`]);
  let jwt: string;
  try {
    if (statSync(settings.blobFile).size > LIMITS.metadataBlobMaxBytes) {
      throw refuse(`larger than ${LIMITS.metadataBlobMaxBytes} bytes`);
    }
    jwt = readFileSync(settings.blobFile, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw refuse(`cannot be read (${describe(error)})`);
  }
  try {
    return await verifyMetadataBlob(jwt, trust, now);
  } catch (error) {
    if (error instanceof MetadataBlobError) throw refuse(`the Metadata Service blob is refused: ${error.message}`);
    throw error;
  }
}
