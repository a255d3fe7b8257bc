/**
 * The size and shape bounds of WebAuthn JSON; its security numbers (lifetime,
 * credentials per user, JSON size) come from src/limits.ts.
 *
 * The JSON bounds are far above what a browser sends (a whole registration
 * response with attestation `none` is well under 2 KiB; an authentication
 * response under 1 KiB) and far below what could cost the service anything:
 * they exist so that a hostile client meets a BAD_USER_INPUT before any base64,
 * CBOR or signature code runs.
 */
import { LIMITS } from '../../limits';

/** Registration and authentication options live this long (the contract: 5 minutes). */
export const WEBAUTHN_CEREMONY_TIMEOUT_MS = LIMITS.webAuthnCeremonySeconds * 1000;

/** Random bytes in a challenge (256 bits; the contract asks for at least 128). */
export const WEBAUTHN_CHALLENGE_BYTES = 32;

/** At most this many credentials per user (the contract). Enforced by the factor, not here. */
export const WEBAUTHN_MAX_CREDENTIALS_PER_USER = LIMITS.webAuthnCredentialsPerUser;

/** A user handle (`user.id`) is 1 to 64 bytes (WebAuthn §5.4.3). */
export const WEBAUTHN_USER_HANDLE_MAX_BYTES = 64;

/**
 * A credential id is at most 1023 bytes (WebAuthn §4 "Credential ID") and has at
 * least 16 bytes (authenticators must put ≥ 100 bits of entropy in it). As stored
 * (base64url, no padding) it is at most 1364 characters.
 */
export const WEBAUTHN_CREDENTIAL_ID_MIN_BYTES = 16;
export const WEBAUTHN_CREDENTIAL_ID_MAX_BYTES = 1023;
export const WEBAUTHN_CREDENTIAL_ID_MAX_CHARS = Math.ceil((WEBAUTHN_CREDENTIAL_ID_MAX_BYTES * 4) / 3);

/** The whole response, serialized as JSON (UTF-8 bytes). */
export const WEBAUTHN_JSON_MAX_BYTES = LIMITS.webAuthnJsonMaxBytes;
/** Nesting of objects and arrays (a response is 2 deep; extension outputs may add 2 or 3). */
export const WEBAUTHN_JSON_MAX_DEPTH = 8;
/** Values (objects, arrays, strings, numbers…) in the whole response. */
export const WEBAUTHN_JSON_MAX_NODES = 512;

/** Each base64url field of `response`, in characters. */
export const WEBAUTHN_FIELD_MAX_CHARS = {
  clientDataJSON: 4096,
  attestationObject: 12 * 1024,
  authenticatorData: 4096,
  signature: 2048,
  publicKey: 2048,
  userHandle: Math.ceil((WEBAUTHN_USER_HANDLE_MAX_BYTES * 4) / 3),
} as const;

/** `response.transports`: at most this many entries, each at most this long. */
export const WEBAUTHN_TRANSPORTS_MAX = 16;
export const WEBAUTHN_TRANSPORT_MAX_CHARS = 32;
