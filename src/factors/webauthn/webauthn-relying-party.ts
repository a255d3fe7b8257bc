import { createPublicKey, type JsonWebKey, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import {
  cose,
  decodeAttestationObject,
  decodeClientDataJSON,
  decodeCredentialPublicKey,
  parseAuthenticatorData,
} from '@simplewebauthn/server/helpers';
import { LIMITS } from '../../limits';
import { decodeCanonicalBase64Url, knownTransports, parseWebAuthnJson, type WebAuthnTransport } from './webauthn-json';
import {
  WEBAUTHN_CEREMONY_TIMEOUT_MS,
  WEBAUTHN_CHALLENGE_BYTES,
  WEBAUTHN_USER_HANDLE_MAX_BYTES,
} from './webauthn-limits';

/**
 * The relying party of WebAuthn, without storage: options for
 * navigator.credentials.create() / get(), and the verification of what the
 * authenticator answered, all through @simplewebauthn/server (no CBOR, COSE or
 * signature code here). The caller keeps the challenge (single use, bound to
 * the user and purpose, WEBAUTHN_CEREMONY_TIMEOUT_MS) and the credentials.
 *
 * What is decided here rather than left to the library's defaults:
 * - algorithms are exactly ES256, EdDSA, RS256, for the options and for the
 *   verification (on Node 24 the library's default adds ML-DSA-44);
 * - user presence is required, user verification is only preferred (the
 *   library's verify functions require it by default);
 * - the RP id hash is always checked (the library skips it at registration
 *   when no `expectedRPID` is given);
 * - an assertion must come from the credential it is checked against (the
 *   library never compares the response's id with the credential's);
 * - a credential's public key is checked before anything else at registration
 *   (credentialPublicKeyProblem: a point on its curve, the curve and key type of
 *   its algorithm, RSA size and exponent); the library stores any key it can decode;
 * - client data made inside another origin's frame (`crossOrigin: true`, or a
 *   `topOrigin`) is refused at registration and authentication (the library
 *   checks neither at registration, nor `crossOrigin` without `topOrigin`);
 * - the signature counter rule is applied here, after the signature, so that a
 *   "possible clone" is only ever reported for a genuinely signed response (the
 *   library checks the counter before the signature and throws a plain Error);
 * - any library error becomes `{ ok: false }`: nothing a client sends throws.
 */

/** COSE algorithm ids: ES256, EdDSA, RS256. */
export const WEBAUTHN_ALGORITHMS: readonly number[] = [-7, -8, -257];

export interface RelyingPartyConfig {
  /** A domain (no scheme, no port), e.g. `example.com` or `localhost`. */
  rpId: string;
  rpName: string;
  /** The exact origins allowed, e.g. `https://app.example.com`. */
  origins: readonly string[];
}

/** A credential as named in excludeCredentials / allowCredentials. */
export interface CredentialDescriptor {
  /** base64url, as verifyRegistration returned it. */
  id: string;
  transports?: readonly string[];
}

/** What the factor stored of a credential, as verifyRegistration returned it. */
export interface StoredCredential {
  id: string;
  publicKey: Uint8Array;
  counter: number;
  transports?: readonly string[];
  /** The user's handle: when given, an assertion that carries a userHandle must carry this one. */
  userHandle?: Uint8Array;
}

/**
 * `detail` is for logs and audit only, never for the client: it may quote what
 * the client sent and the challenge that was expected.
 */
export type WebAuthnRefusal =
  /** The JSON is not a WebAuthn response of the expected shape (BAD_USER_INPUT). */
  | { ok: false; reason: 'malformed'; detail: string }
  /** Well-formed, but wrong: challenge, origin, RP id, flags, signature, credential… (INVALID_CODE). */
  | { ok: false; reason: 'invalid'; detail: string };

export type RegistrationVerification =
  /** The credential's public key is broken or weak (BAD_USER_INPUT): `detail` quotes nothing the client sent. */
  | { ok: false; reason: 'unacceptable-key'; detail: string }
  | {
      ok: true;
      /** base64url, no padding: the key to store and look the credential up by. */
      credentialId: string;
      /** The COSE public key, as the library wants it back. */
      publicKey: Uint8Array;
      counter: number;
      transports: WebAuthnTransport[];
      /** Backup eligible: a passkey that may be synced between devices (the contract's `synced`). */
      backupEligible: boolean;
      backedUp: boolean;
      userVerified: boolean;
      aaguid: string;
    }
  | WebAuthnRefusal;

export type AuthenticationVerification =
  | { ok: true; newCounter: number; userVerified: boolean; backedUp: boolean }
  | WebAuthnRefusal
  /** Signed by the credential, but its counter did not grow: refused, and audited as a possible clone. */
  | { ok: false; reason: 'counter'; detail: string; storedCounter: number; receivedCounter: number };

/**
 * The counter rule of the contract: when either side is not 0, the received
 * counter must be greater than the stored one. Both 0 is allowed (many passkeys
 * never count); a counter going back to 0 after counting is refused.
 */
export function counterRefused(storedCounter: number, receivedCounter: number): boolean {
  return (storedCounter > 0 || receivedCounter > 0) && receivedCounter <= storedCounter;
}

/** A fresh random user handle (32 bytes) for a user's first credential; store it with the user. */
export function newWebAuthnUserHandle(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

const DETAIL_MAX_CHARS = 200;

function invalid(detail: string): WebAuthnRefusal {
  return { ok: false, reason: 'invalid', detail: detail.slice(0, DETAIL_MAX_CHARS) };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'verification failed';
}

/** A challenge we could have issued: base64url of at least 16 bytes. Guards against '' or a missing one. */
function plausibleChallenge(challenge: unknown): challenge is string {
  if (typeof challenge !== 'string') return false;
  const bytes = decodeCanonicalBase64Url(challenge);
  return bytes !== null && bytes.length >= 16;
}

const descriptors = (credentials: readonly CredentialDescriptor[]) =>
  credentials.map((credential) => ({
    id: credential.id,
    transports: knownTransports(credential.transports ?? []),
  }));

export class WebAuthnRelyingParty {
  readonly rpId: string;
  readonly rpName: string;
  readonly origins: readonly string[];

  constructor(config: RelyingPartyConfig) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(config.rpId))
      throw new Error(`WebAuthn RP id must be a domain, got ${JSON.stringify(config.rpId)}`);
    if (config.rpName.trim() === '') throw new Error('WebAuthn RP name must not be empty');
    if (config.origins.length === 0) throw new Error('WebAuthn needs at least one allowed origin');
    for (const origin of config.origins) {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new Error(`WebAuthn origin ${JSON.stringify(origin)} is not a URL`);
      }
      if (parsed.origin !== origin)
        throw new Error(
          `WebAuthn origin ${JSON.stringify(origin)} must be exactly scheme://host[:port], as ${parsed.origin}`,
        );
    }
    this.rpId = config.rpId;
    this.rpName = config.rpName;
    this.origins = [...config.origins];
  }

  /**
   * Options for navigator.credentials.create(). `userHandle` becomes `user.id`:
   * opaque bytes (1 to 64) that authenticators keep with a passkey and hand back
   * as `userHandle`; it must not reveal anything (use newWebAuthnUserHandle()
   * once per user, or a keyed hash of the user id). The challenge to keep is
   * `options.challenge`.
   */
  async registrationOptions(input: {
    userHandle: Uint8Array;
    userName: string;
    userDisplayName?: string;
    excludeCredentials: readonly CredentialDescriptor[];
    /** `direct` where an authenticator policy may judge the model; `none` by default. */
    attestation?: 'direct' | 'none';
  }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    if (input.userHandle.length === 0 || input.userHandle.length > WEBAUTHN_USER_HANDLE_MAX_BYTES) {
      throw new RangeError(`a WebAuthn user handle is 1 to ${WEBAUTHN_USER_HANDLE_MAX_BYTES} bytes`);
    }
    return generateRegistrationOptions({
      rpName: this.rpName,
      rpID: this.rpId,
      userID: new Uint8Array(input.userHandle),
      userName: input.userName,
      userDisplayName: input.userDisplayName ?? input.userName,
      challenge: new Uint8Array(randomBytes(WEBAUTHN_CHALLENGE_BYTES)),
      timeout: WEBAUTHN_CEREMONY_TIMEOUT_MS,
      attestationType: input.attestation ?? 'none',
      excludeCredentials: descriptors(input.excludeCredentials),
      // A fresh object each time: the library writes requireResidentKey into it.
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      supportedAlgorithmIDs: [...WEBAUTHN_ALGORITHMS],
    });
  }

  /**
   * Checks a RegistrationResponseJSON against the challenge of the options it
   * answers: type webauthn.create, the challenge, an allowed origin, the RP id
   * hash, user presence (user verification is reported, not required), an
   * allowed algorithm, attestation (`none` or a valid self/full statement), and
   * that the response's id is the attested credential id. Whether the id is
   * already someone's is the caller's question.
   */
  async verifyRegistration(response: unknown, expectedChallenge: string): Promise<RegistrationVerification> {
    const parsed = parseWebAuthnJson(response, 'registration');
    if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.reason };
    if (!plausibleChallenge(expectedChallenge)) return invalid('no challenge to compare with');
    const keyProblem = this.credentialKeyProblem(parsed.value);
    if (keyProblem) return { ok: false, reason: 'unacceptable-key', detail: keyProblem };
    const crossOrigin = crossOriginProblem(parsed.value.response.clientDataJSON);
    if (crossOrigin) return invalid(crossOrigin);
    try {
      const result = await verifyRegistrationResponse({
        response: parsed.value,
        expectedChallenge,
        expectedOrigin: [...this.origins],
        expectedRPID: this.rpId,
        requireUserPresence: true,
        requireUserVerification: false,
        supportedAlgorithmIDs: [...WEBAUTHN_ALGORITHMS],
      });
      if (!result.verified) return invalid('the attestation statement did not verify');
      const info = result.registrationInfo;
      if (info.credential.id !== parsed.value.id) return invalid('the response id is not the attested credential id');
      return {
        ok: true,
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        counter: info.credential.counter,
        // From the parsed response (known values only), not the library's copy of the raw list.
        transports: knownTransports(parsed.value.response.transports ?? []),
        backupEligible: info.credentialDeviceType === 'multiDevice',
        backedUp: info.credentialBackedUp,
        userVerified: info.userVerified,
        aaguid: info.aaguid,
      };
    } catch (error) {
      return invalid(describe(error));
    }
  }

  /**
   * What is wrong with the public key a registration response would register
   * (see credentialPublicKeyProblem); null when it is acceptable, or when the
   * response cannot be read that far (verifyRegistration then refuses it).
   */
  credentialKeyProblem(response: unknown): string | null {
    const parsed = parseWebAuthnJson(response, 'registration');
    if (!parsed.ok) return null;
    let publicKey: Uint8Array | undefined;
    try {
      const attestation = decodeAttestationObject(
        new Uint8Array(decodeCanonicalBase64Url(parsed.value.response.attestationObject)!),
      );
      publicKey = parseAuthenticatorData(attestation.get('authData')).credentialPublicKey;
    } catch {
      return null;
    }
    return publicKey ? credentialPublicKeyProblem(publicKey) : null;
  }

  /**
   * Options for navigator.credentials.get() naming the user's credentials (at
   * least one: a second factor always knows whose it is; an empty list would
   * let the browser offer any passkey of the RP). The challenge to keep is
   * `options.challenge`.
   */
  async authenticationOptions(input: {
    allowCredentials: readonly CredentialDescriptor[];
  }): Promise<PublicKeyCredentialRequestOptionsJSON> {
    if (input.allowCredentials.length === 0)
      throw new RangeError('WebAuthn authentication options need at least one credential');
    return generateAuthenticationOptions({
      rpID: this.rpId,
      allowCredentials: descriptors(input.allowCredentials),
      challenge: new Uint8Array(randomBytes(WEBAUTHN_CHALLENGE_BYTES)),
      timeout: WEBAUTHN_CEREMONY_TIMEOUT_MS,
      userVerification: 'preferred',
    });
  }

  /**
   * Checks an AuthenticationResponseJSON made by `credential` for the challenge:
   * the response's id is the credential's, type webauthn.get, the challenge, an
   * allowed origin (and no unexpected top origin), the RP id hash, user presence
   * (user verification reported), the signature, then the counter rule
   * (counterRefused). On success the caller stores `newCounter`, with a
   * compare-and-set on the old one if answers can race.
   */
  async verifyAuthentication(
    response: unknown,
    expectedChallenge: string,
    credential: StoredCredential,
  ): Promise<AuthenticationVerification> {
    const parsed = parseWebAuthnJson(response, 'authentication');
    if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.reason };
    if (!plausibleChallenge(expectedChallenge)) return invalid('no challenge to compare with');
    if (parsed.value.id !== credential.id) return invalid('the response is for another credential');
    const userHandle = parsed.value.response.userHandle;
    if (
      credential.userHandle &&
      userHandle !== undefined &&
      !Buffer.from(credential.userHandle).equals(decodeCanonicalBase64Url(userHandle)!)
    ) {
      return invalid('the response is for another user handle');
    }
    if (!canonicalSignature(parsed.value.response.signature, credential.publicKey)) {
      return invalid('the signature is not in its canonical encoding');
    }
    const crossOrigin = crossOriginProblem(parsed.value.response.clientDataJSON);
    if (crossOrigin) return invalid(crossOrigin);
    try {
      const result = await verifyAuthenticationResponse({
        response: parsed.value,
        expectedChallenge,
        expectedOrigin: [...this.origins],
        expectedRPID: this.rpId,
        credential: {
          id: credential.id,
          publicKey: new Uint8Array(credential.publicKey),
          // 0 turns the library's own counter check off (it runs before the
          // signature and throws a plain Error); counterRefused() below applies
          // the same rule once the signature is known to be good.
          counter: 0,
          transports: knownTransports(credential.transports ?? []),
        },
        requireUserVerification: false,
      });
      if (!result.verified) return invalid('the signature did not verify');
      const received = result.authenticationInfo.newCounter;
      if (counterRefused(credential.counter, received)) {
        return {
          ok: false,
          reason: 'counter',
          detail: `signature counter ${received} did not grow past ${credential.counter}`,
          storedCounter: credential.counter,
          receivedCounter: received,
        };
      }
      return {
        ok: true,
        newCounter: received,
        userVerified: result.authenticationInfo.userVerified,
        backedUp: result.authenticationInfo.credentialBackedUp,
      };
    } catch (error) {
      return invalid(describe(error));
    }
  }
}

/**
 * Client data made in a frame of another origin: `crossOrigin` anything but
 * absent or false, or any `topOrigin`. Unreadable client data is left to the
 * library, which refuses it.
 */
function crossOriginProblem(clientDataJSON: string): string | null {
  let clientData: { crossOrigin?: unknown; topOrigin?: unknown };
  try {
    clientData = decodeClientDataJSON(clientDataJSON);
  } catch {
    return null;
  }
  if (clientData === null || typeof clientData !== 'object') return null;
  if (clientData.crossOrigin !== undefined && clientData.crossOrigin !== false)
    return 'cross-origin client data (crossOrigin) is refused';
  if (clientData.topOrigin !== undefined) return 'client data with a top origin is refused';
  return null;
}

const RSA_MIN_BITS = LIMITS.webAuthnRsaMinBits;
const RSA_EXPONENT = BigInt(LIMITS.webAuthnRsaExponent);

/**
 * Why a COSE public key must not be registered, or null: each of the allowed
 * algorithms with its own key type and curve only (ES256: EC2 on P-256; EdDSA:
 * OKP on Ed25519; RS256: RSA of at least RSA_MIN_BITS bits with exponent
 * RSA_EXPONENT), every coordinate of its curve's size, and the key importable
 * by node:crypto (which refuses an EC point that is not on its curve). The
 * reasons are ours: they quote nothing the client sent.
 */
export function credentialPublicKeyProblem(publicKey: Uint8Array): string | null {
  let key: Map<number, unknown>;
  try {
    key = decodeCredentialPublicKey(new Uint8Array(publicKey)) as unknown as Map<number, unknown>;
  } catch {
    return 'the credential public key is not a COSE key';
  }
  if (!(key instanceof Map)) return 'the credential public key is not a COSE key';
  const { COSEKEYS, COSEKTY, COSECRV, COSEALG } = cose;
  const bytes = (label: number, length?: number): string | undefined => {
    const value = key.get(label);
    if (!(value instanceof Uint8Array) || value.length === 0) return undefined;
    if (length !== undefined && value.length !== length) return undefined;
    return Buffer.from(value).toString('base64url');
  };
  const importable = (jwk: JsonWebKey) => {
    try {
      return createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      return null;
    }
  };
  const kty = key.get(COSEKEYS.kty);
  const crv = key.get(COSEKEYS.crv);
  switch (key.get(COSEKEYS.alg)) {
    case COSEALG.ES256: {
      if (kty !== COSEKTY.EC2 || crv !== COSECRV.P256) return 'an ES256 credential key must be an EC2 key on P-256';
      const x = bytes(COSEKEYS.x, 32);
      const y = bytes(COSEKEYS.y, 32);
      if (!x || !y || !importable({ kty: 'EC', crv: 'P-256', x, y }))
        return 'the credential public key is not a point on P-256';
      return null;
    }
    case COSEALG.EdDSA: {
      if (kty !== COSEKTY.OKP || crv !== COSECRV.ED25519) return 'an EdDSA credential key must be an Ed25519 key';
      const x = bytes(COSEKEYS.x, 32);
      if (!x || !importable({ kty: 'OKP', crv: 'Ed25519', x }))
        return 'the credential public key is not an Ed25519 key';
      return null;
    }
    case COSEALG.RS256: {
      if (kty !== COSEKTY.RSA) return 'an RS256 credential key must be an RSA key';
      const n = bytes(COSEKEYS.n);
      const e = bytes(COSEKEYS.e);
      const details = n && e ? importable({ kty: 'RSA', n, e })?.asymmetricKeyDetails : undefined;
      if (!details) return 'the credential public key is not an RSA key';
      if ((details.modulusLength ?? 0) < RSA_MIN_BITS || details.publicExponent !== RSA_EXPONENT)
        return `an RSA credential key must have at least ${RSA_MIN_BITS} bits and the exponent ${RSA_EXPONENT}`;
      return null;
    }
    default:
      return 'the credential public key is not of an allowed algorithm (ES256, EdDSA, RS256)';
  }
}

/**
 * An ECDSA signature (an EC2 key) must be strict DER: the library's decoder
 * accepts some bytes of the encoding flipped (the SEQUENCE tag, its length) and
 * still finds r and s. That forges nothing, but an answer must have one encoding
 * only. EdDSA and RSA signatures are fixed-length raw bytes, checked by the library.
 */
function canonicalSignature(signatureBase64Url: string, publicKey: Uint8Array): boolean {
  let kty: unknown;
  try {
    kty = decodeCredentialPublicKey(new Uint8Array(publicKey)).get(cose.COSEKEYS.kty);
  } catch {
    return false;
  }
  if (kty !== cose.COSEKTY.EC2) return true;
  return isStrictDerEcdsaSignature(Buffer.from(signatureBase64Url, 'base64url'));
}

/** SEQUENCE { INTEGER r, INTEGER s }, short-form lengths, minimal positive integers, nothing after. */
export function isStrictDerEcdsaSignature(signature: Buffer): boolean {
  if (signature.length < 8 || signature[0] !== 0x30 || signature[1] !== signature.length - 2) return false;
  let at = 2;
  for (let integer = 0; integer < 2; integer += 1) {
    if (signature[at] !== 0x02) return false;
    const length = signature[at + 1];
    if (length < 1 || length > 33 || at + 2 + length > signature.length) return false;
    const first = signature[at + 2];
    if (first & 0x80) return false;
    if (length > 1 && first === 0x00 && !(signature[at + 3] & 0x80)) return false;
    at += 2 + length;
  }
  return at === signature.length;
}
