import { randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { cose, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
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
      attestationType: 'none',
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
