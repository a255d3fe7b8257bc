import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A registration response made by hand around a chosen COSE public key, for the
 * keys no authenticator would make (a point off its curve, a 512-bit RSA key):
 * attestation `none`, user present and verified, everything else right for the
 * options it answers. Only the key, and the client data's cross-origin fields,
 * are what a test chooses.
 */
export type CoseKey = Map<number, number | Uint8Array>;

export interface CraftedRegistrationOptions {
  origin: string;
  /** Written into clientDataJSON when given. */
  crossOrigin?: boolean;
  topOrigin?: string;
}

const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const bytesOf = (base64url: string) => new Uint8Array(Buffer.from(base64url, 'base64url'));

export function craftRegistration(
  options: PublicKeyCredentialCreationOptionsJSON,
  key: CoseKey,
  crafted: CraftedRegistrationOptions,
): RegistrationResponseJSON {
  const credentialId = randomBytes(32);
  const rpIdHash = createHash('sha256').update(options.rp.id!).digest();
  const counter = Buffer.alloc(4);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(credentialId.length);
  const authData = Buffer.concat([
    rpIdHash,
    Buffer.from([0x45]), // user present, user verified, attested credential data
    counter,
    Buffer.alloc(16), // AAGUID
    length,
    credentialId,
    Buffer.from(isoCBOR.encode(key)),
  ]);
  const attestationObject = isoCBOR.encode(
    new Map<string, unknown>([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', new Uint8Array(authData)],
    ]) as never,
  );
  const clientData = {
    type: 'webauthn.create',
    challenge: options.challenge,
    origin: crafted.origin,
    crossOrigin: crafted.crossOrigin ?? false,
    ...(crafted.topOrigin !== undefined ? { topOrigin: crafted.topOrigin } : {}),
  };
  return {
    id: b64u(credentialId),
    rawId: b64u(credentialId),
    type: 'public-key',
    response: {
      clientDataJSON: b64u(JSON.stringify(clientData)),
      attestationObject: b64u(attestationObject),
      transports: ['usb'],
    },
    clientExtensionResults: {},
  };
}

/** COSE key parameters (RFC 9053): kty 1, alg 3; EC2/OKP crv -1, x -2, y -3; RSA n -1, e -2. */
export const COSE = { kty: 1, alg: 3, crv: -1, x: -2, y: -3, n: -1, e: -2 } as const;

/** A fresh EC key on `curve` (JWK name), as COSE with `alg` and `crv`. */
export function ecKey(curve: 'P-256' | 'P-384', alg: number, crv: number): CoseKey {
  const jwk = generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' });
  return new Map<number, number | Uint8Array>([
    [COSE.kty, 2],
    [COSE.alg, alg],
    [COSE.crv, crv],
    [COSE.x, bytesOf(jwk.x!)],
    [COSE.y, bytesOf(jwk.y!)],
  ]);
}

/** A fresh Ed25519 key as COSE (OKP, EdDSA), with `crv` and `x` as given or its own. */
export function okpKey(crv = 6, x?: Uint8Array): CoseKey {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return new Map<number, number | Uint8Array>([
    [COSE.kty, 1],
    [COSE.alg, -8],
    [COSE.crv, crv],
    [COSE.x, x ?? bytesOf(jwk.x!)],
  ]);
}

/** A fresh RSA key of `bits` as COSE (RS256), with exponent `exponent`. */
export function rsaKey(bits: number, exponent = 65537): CoseKey {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  const hex = exponent.toString(16);
  const e = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  return new Map<number, number | Uint8Array>([
    [COSE.kty, 3],
    [COSE.alg, -257],
    [COSE.n, bytesOf(jwk.n!)],
    [COSE.e, new Uint8Array(e)],
  ]);
}

/** `key` with the low bit of its EC y coordinate flipped: neither y nor p - y, so a point off the curve. */
export function offCurve(key: CoseKey): CoseKey {
  const y = new Uint8Array(key.get(COSE.y) as Uint8Array);
  y[y.length - 1] ^= 0x01;
  return new Map(key).set(COSE.y, y);
}
