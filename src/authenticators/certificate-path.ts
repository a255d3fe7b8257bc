import 'reflect-metadata';
import {
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  type X509Certificate,
  X509ChainBuilder,
  type X509Crl,
} from '@peculiar/x509';

/**
 * Certification paths, for the Metadata Service blob's signer and for
 * attestation certificates: built and signature-checked by @peculiar/x509 (no
 * signature code here), with the rules of the path decided here:
 *
 * - the path ends at one of the given trust anchors (the same certificate, not
 *   merely the same name); a leaf that is itself an anchor is trusted as is;
 * - every certificate of it, the anchor included, is valid at `at` (our clock);
 * - every issuer below the anchor is a CA (basicConstraints cA), may sign
 *   certificates when it says what it may do (keyUsage), and respects its path
 *   length;
 * - revocation only from the lists given, never fetched (a verification must
 *   not wait on the network, and the request path must not reach addresses a
 *   certificate names): a certificate that names a CRL none of the given ones
 *   is for is reported, for the caller to warn about.
 *
 * @simplewebauthn/server's validateCertificatePath is not used: it fetches the
 * CRLs a certificate names, reads the system clock and checks no CA flags.
 */

export class CertificatePathError extends Error {
  override readonly name = 'CertificatePathError';
}

export interface PathVerification {
  /** Certificates naming a revocation list that was not given: not checked for revocation. */
  unchecked: { subject: string; urls: string[] }[];
}

async function thumbprint(certificate: X509Certificate): Promise<string> {
  return Buffer.from(await certificate.getThumbprint('SHA-256')).toString('hex');
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function verifyCertificatePath(
  certificates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  options: { at: Date; crls?: readonly X509Crl[] },
): Promise<PathVerification> {
  const [leaf, ...sent] = certificates;
  if (!leaf) throw new CertificatePathError('no certificate to verify');
  if (anchors.length === 0) throw new CertificatePathError('no trusted root to verify against');
  const anchorPrints = new Set(await Promise.all(anchors.map(thumbprint)));

  // Candidates for the path: what was sent, then the anchors, each once.
  const pool: X509Certificate[] = [];
  const seen = new Set<string>();
  for (const certificate of [...sent, ...anchors]) {
    const print = await thumbprint(certificate);
    if (!seen.has(print)) pool.push(certificate);
    seen.add(print);
  }
  let built: X509Certificate[];
  try {
    built = [...(await new X509ChainBuilder({ certificates: pool }).build(leaf))];
  } catch (error) {
    throw new CertificatePathError(`the certificate chain cannot be built: ${describe(error)}`);
  }
  const prints = await Promise.all(built.map(thumbprint));
  const end = prints.findIndex((print) => anchorPrints.has(print));
  if (end < 0) throw new CertificatePathError(`the chain of "${leaf.subject}" does not lead to a trusted root`);
  const path = built.slice(0, end + 1);

  for (const certificate of path) {
    if (!(certificate.notBefore <= options.at && options.at <= certificate.notAfter)) {
      throw new CertificatePathError(
        `the certificate "${certificate.subject}" is not valid now (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()})`,
      );
    }
  }
  // Issuers below the anchor (an anchor is trusted as it is).
  for (let index = 1; index < path.length - 1; index += 1) {
    const issuer = path[index];
    const constraints = issuer.getExtension(BasicConstraintsExtension);
    if (!constraints?.ca) throw new CertificatePathError(`"${issuer.subject}" issued a certificate but is not a CA`);
    if (constraints.pathLength !== undefined && index - 1 > constraints.pathLength) {
      throw new CertificatePathError(`"${issuer.subject}" allows ${constraints.pathLength} CAs below it`);
    }
    const usages = issuer.getExtension(KeyUsagesExtension);
    if (usages && !(usages.usages & KeyUsageFlags.keyCertSign)) {
      throw new CertificatePathError(`"${issuer.subject}" may not sign certificates (keyUsage)`);
    }
  }

  const unchecked: PathVerification['unchecked'] = [];
  for (let index = 0; index < path.length - 1; index += 1) {
    const certificate = path[index];
    const issuer = path[index + 1];
    const urls = revocationListsNamed(certificate);
    if (urls.length === 0) continue;
    const lists = (options.crls ?? []).filter((crl) => crl.issuer === issuer.subject);
    for (const crl of lists) {
      // The issuer's public key, with the list's own signature algorithm; a list it cannot read is not signed.
      const signed = await crl.verify({ publicKey: issuer.publicKey }).catch(() => false);
      if (!signed) throw new CertificatePathError(`the revocation list of "${issuer.subject}" given does not verify`);
      if (crl.nextUpdate && crl.nextUpdate < options.at) {
        throw new CertificatePathError(
          `the revocation list of "${issuer.subject}" given is out of date (next update ${crl.nextUpdate.toISOString()})`,
        );
      }
      if (crl.findRevoked(certificate)) {
        throw new CertificatePathError(`the certificate "${certificate.subject}" is revoked by "${issuer.subject}"`);
      }
    }
    if (lists.length === 0) unchecked.push({ subject: certificate.subject, urls });
  }
  return { unchecked };
}

/** The URLs of the CRL distribution points a certificate names. */
function revocationListsNamed(certificate: X509Certificate): string[] {
  const extension = certificate.getExtension(CRLDistributionPointsExtension);
  const urls: string[] = [];
  for (const point of extension?.distributionPoints ?? []) {
    for (const name of point.distributionPoint?.fullName ?? []) {
      if (name.uniformResourceIdentifier) urls.push(name.uniformResourceIdentifier);
    }
  }
  return urls;
}
