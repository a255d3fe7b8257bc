import 'reflect-metadata';
import { X509Certificate } from '@peculiar/x509';
import { type RegistrationResponseJSON, verifyRegistrationResponse } from '@simplewebauthn/server';
import {
  convertAAGUIDToString,
  decodeAttestationObject,
  decodeClientDataJSON,
  isoBase64URL,
  isoCBOR,
  parseAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import type { Clock } from '../infra/clock';
import { verifyCertificatePath } from './certificate-path';
import type { ModelRegistry } from './model-catalog';

/** What a registration proves about its authenticator. */
export interface AttestationResult {
  /** The model's AAGUID, lower case with dashes; all zeros when the authenticator gave none. */
  aaguid: string;
  /** The statement verified, and its certificate chains to a root the blob gives for this AAGUID. */
  attested: boolean;
  /** The backup-eligible flag is unset: the key cannot be synced to other devices. */
  deviceBound: boolean;
  /** The attestation format (`none`, `packed`, ...); empty when the response could not be read. */
  format: string;
  /** Why it is not attested, for logs and audit only (never for the client). */
  reason: string | null;
}

export const ZERO_AAGUID = '00000000-0000-0000-0000-000000000000';
/** The formats the contract attests (android-safetynet, deprecated by Google, is not among them). */
const ATTESTED_FORMATS = new Set(['packed', 'tpm', 'android-key', 'apple', 'fido-u2f']);
/** The credential algorithms of the contract: ES256, EdDSA, RS256. */
const ALGORITHMS = [-7, -8, -257];
const REASON_MAX_CHARS = 200;

/**
 * Verifies a registration's attestation statement against the loaded
 * Metadata Service blob, for a registration the relying party has already
 * accepted (challenge, origin, RP id, key: webauthn-relying-party.ts).
 *
 * The statement itself (its signature, the format's rules, the certificate's
 * profile and AAGUID extension) is checked by @simplewebauthn/server's
 * verifyRegistrationResponse, with the process-wide MetadataService left
 * disabled and no roots set for these formats, so the library checks no chain
 * of its own except the vendor roots it ships for android-key and apple. The
 * certificate chain is then checked against the roots the blob gives for the
 * response's AAGUID (certificate-path.ts: no CRL fetched, our clock).
 *
 * Nothing here throws: any failure is an unattested key.
 */
export class AttestationVerifier {
  constructor(
    private readonly models: ModelRegistry,
    private readonly clock: Clock,
  ) {}

  async verify(response: unknown): Promise<AttestationResult> {
    const read = readRegistration(response);
    if (!read.ok) return { aaguid: ZERO_AAGUID, attested: false, deviceBound: false, format: '', reason: read.reason };
    const { aaguid, deviceBound, format, x5c, origin } = read;
    const unattested = (reason: string): AttestationResult => ({
      aaguid,
      attested: false,
      deviceBound,
      format,
      reason: reason.slice(0, REASON_MAX_CHARS),
    });
    if (format === 'none') return unattested('attestation none');
    if (!ATTESTED_FORMATS.has(format)) return unattested(`the ${format} format is not accepted`);
    if (!x5c || x5c.length === 0) return unattested('self attestation: no certificate');
    if (aaguid === ZERO_AAGUID) return unattested('no AAGUID: no model to verify against');
    const catalog = this.models.current;
    const roots = await catalog.attestationRoots(aaguid);
    if (roots.length === 0) return unattested('the Metadata Service blob gives no attestation root for this AAGUID');

    try {
      const verification = await verifyRegistrationResponse({
        response: response as RegistrationResponseJSON,
        // Already compared by the relying party; only the statement is in question here.
        expectedChallenge: () => true,
        expectedOrigin: origin,
        requireUserPresence: false,
        requireUserVerification: false,
        supportedAlgorithmIDs: ALGORITHMS,
      });
      if (!verification.verified) return unattested('the attestation statement does not verify');
    } catch (error) {
      return unattested(`the attestation statement does not verify: ${describe(error)}`);
    }
    try {
      const chain = x5c.map((der) => new X509Certificate(der));
      await verifyCertificatePath(chain, roots, { at: this.clock.now() });
    } catch (error) {
      return unattested(`the attestation certificate does not chain to the model's root: ${describe(error)}`);
    }
    return { aaguid, attested: true, deviceBound, format, reason: null };
  }
}

type ReadRegistration =
  | { ok: true; aaguid: string; deviceBound: boolean; format: string; x5c: Uint8Array[] | undefined; origin: string }
  | { ok: false; reason: string };

function readRegistration(response: unknown): ReadRegistration {
  try {
    const body = (response as { response?: { attestationObject?: unknown; clientDataJSON?: unknown } })?.response;
    if (typeof body?.attestationObject !== 'string') return { ok: false, reason: 'no attestation object' };
    const attestation = decodeAttestationObject(isoBase64URL.toBuffer(body.attestationObject));
    const authData = parseAuthenticatorData(attestation.get('authData'));
    const clientData = typeof body.clientDataJSON === 'string' ? decodeClientDataJSON(body.clientDataJSON) : undefined;
    const x5c = attestation.get('attStmt')?.get('x5c');
    return {
      ok: true,
      aaguid: authData.aaguid ? convertAAGUIDToString(authData.aaguid) : ZERO_AAGUID,
      deviceBound: !authData.flags.be,
      format: String(attestation.get('fmt')),
      x5c: Array.isArray(x5c) ? x5c : undefined,
      origin: typeof clientData?.origin === 'string' ? clientData.origin : '',
    };
  } catch (error) {
    return { ok: false, reason: `the response cannot be read: ${describe(error)}` };
  }
}

/**
 * The same registration with attestation `none` (the statement dropped, the
 * authenticator data untouched): for a key whose statement fails, so that it
 * registers as unattested, as the contract says, instead of being refused.
 * Nothing the client signed changes: the statement is the only signature in a
 * registration, and `none` is what a browser sends when told not to attest.
 */
export function withoutAttestation(response: RegistrationResponseJSON): RegistrationResponseJSON {
  const attestation = decodeAttestationObject(isoBase64URL.toBuffer(response.response.attestationObject));
  const stripped = isoCBOR.encode(
    new Map<string, unknown>([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', attestation.get('authData')],
    ]) as never,
  );
  return { ...response, response: { ...response.response, attestationObject: isoBase64URL.fromBuffer(stripped) } };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : 'verification failed';
}
