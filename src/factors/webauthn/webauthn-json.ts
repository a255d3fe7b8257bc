import type {
  AuthenticationResponseJSON,
  AuthenticatorAttachment,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import {
  WEBAUTHN_CREDENTIAL_ID_MAX_BYTES,
  WEBAUTHN_CREDENTIAL_ID_MAX_CHARS,
  WEBAUTHN_CREDENTIAL_ID_MIN_BYTES,
  WEBAUTHN_FIELD_MAX_CHARS,
  WEBAUTHN_JSON_MAX_BYTES,
  WEBAUTHN_JSON_MAX_DEPTH,
  WEBAUTHN_JSON_MAX_NODES,
  WEBAUTHN_TRANSPORTS_MAX,
  WEBAUTHN_TRANSPORT_MAX_CHARS,
  WEBAUTHN_USER_HANDLE_MAX_BYTES,
} from './webauthn-limits';

/**
 * The shape check a WebAuthn response (a `JSON` argument of the API) passes
 * before anything decodes it: a plain JSON object of bounded size and nesting,
 * with the W3C RegistrationResponseJSON / AuthenticationResponseJSON fields as
 * canonical base64url strings (no padding, as browsers and @simplewebauthn/browser
 * send them). A refusal is the caller's BAD_USER_INPUT, never a 5xx.
 *
 * The value handed on is a fresh object holding only the known fields (unknown
 * ones, which a newer browser may add, are tolerated within the bounds and
 * dropped), so the library never sees anything but strings where it expects
 * strings. No CBOR, no signature, no clientDataJSON content is looked at here:
 * that is @simplewebauthn/server's work.
 */

export type WebAuthnJsonKind = 'registration' | 'authentication';

export type WebAuthnJsonParse<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The transports of WebAuthn L3 (`AuthenticatorTransport`); other values are dropped. */
export const WEBAUTHN_TRANSPORTS = ['usb', 'nfc', 'ble', 'smart-card', 'hybrid', 'internal'] as const;
export type WebAuthnTransport = (typeof WEBAUTHN_TRANSPORTS)[number];

const ATTACHMENTS: readonly string[] = ['platform', 'cross-platform'];

/** The known transports among `values`, each once, in the order given. */
export function knownTransports(values: readonly unknown[]): WebAuthnTransport[] {
  const known: WebAuthnTransport[] = [];
  for (const value of values) {
    if ((WEBAUTHN_TRANSPORTS as readonly unknown[]).includes(value) && !known.includes(value as WebAuthnTransport)) {
      known.push(value as WebAuthnTransport);
    }
  }
  return known;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Decoded bytes of a canonical, unpadded base64url string; null for anything else. */
export function decodeCanonicalBase64Url(value: string): Buffer | null {
  if (!BASE64URL.test(value) || value.length % 4 === 1) return null;
  const bytes = Buffer.from(value, 'base64url');
  // Refuses non-zero padding bits ("AB" and "AA" decode alike): one string per byte sequence.
  return bytes.toString('base64url') === value ? bytes : null;
}

export function parseWebAuthnJson(value: unknown, kind: 'registration'): WebAuthnJsonParse<RegistrationResponseJSON>;
export function parseWebAuthnJson(
  value: unknown,
  kind: 'authentication',
): WebAuthnJsonParse<AuthenticationResponseJSON>;
export function parseWebAuthnJson(
  value: unknown,
  kind: WebAuthnJsonKind,
): WebAuthnJsonParse<RegistrationResponseJSON | AuthenticationResponseJSON> {
  try {
    const boundsProblem = checkBounds(value);
    if (boundsProblem) return refuse(boundsProblem);
    return kind === 'registration'
      ? parseRegistration(value as Record<string, unknown>)
      : parseAuthentication(value as Record<string, unknown>);
  } catch {
    // Nothing above is expected to throw on any input; this keeps the promise regardless.
    return refuse('the WebAuthn response could not be read');
  }
}

class Refusal extends Error {}

const refuse = (reason: string) => ({ ok: false as const, reason });

function fail(reason: string): never {
  throw new Refusal(reason);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Size, nesting and value kinds, walked without recursion (so that neither a deep
 * nor a cyclic value can overflow the stack) and stopped at the first excess,
 * before JSON.stringify measures the exact size.
 */
function checkBounds(value: unknown): string | null {
  if (!isPlainObject(value)) return 'the WebAuthn response must be a JSON object';
  const tooLarge = `the WebAuthn response is larger than ${WEBAUTHN_JSON_MAX_BYTES} bytes`;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  let chars = 0;
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    nodes += 1;
    if (nodes > WEBAUTHN_JSON_MAX_NODES)
      return `the WebAuthn response holds more than ${WEBAUTHN_JSON_MAX_NODES} values`;
    switch (typeof current) {
      case 'string':
        chars += current.length;
        if (chars > WEBAUTHN_JSON_MAX_BYTES) return tooLarge;
        continue;
      case 'number':
        if (!Number.isFinite(current)) return 'the WebAuthn response holds a number that is not finite';
        continue;
      case 'boolean':
      case 'undefined': // an absent field, as JSON.stringify sees it
        continue;
      case 'object':
        break;
      default:
        return 'the WebAuthn response holds a value that is not JSON';
    }
    if (current === null) continue;
    if (depth >= WEBAUTHN_JSON_MAX_DEPTH)
      return `the WebAuthn response is nested deeper than ${WEBAUTHN_JSON_MAX_DEPTH} levels`;
    if (Array.isArray(current)) {
      if (current.length > WEBAUTHN_JSON_MAX_NODES)
        return `the WebAuthn response holds more than ${WEBAUTHN_JSON_MAX_NODES} values`;
      for (let index = 0; index < current.length; index += 1) stack.push({ value: current[index], depth: depth + 1 });
      continue;
    }
    if (!isPlainObject(current)) return 'the WebAuthn response holds an object that is not plain JSON';
    const keys = Object.keys(current);
    if (keys.length > WEBAUTHN_JSON_MAX_NODES)
      return `the WebAuthn response holds more than ${WEBAUTHN_JSON_MAX_NODES} values`;
    for (const key of keys) {
      chars += key.length;
      if (chars > WEBAUTHN_JSON_MAX_BYTES) return tooLarge;
      stack.push({ value: current[key], depth: depth + 1 });
    }
  }
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > WEBAUTHN_JSON_MAX_BYTES) return tooLarge;
  return null;
}

/** A required (or, with `optional`, possibly absent) canonical base64url field of 1…maxChars characters. */
function base64UrlField(
  container: Record<string, unknown>,
  key: string,
  path: string,
  maxChars: number,
  optional = false,
): string | undefined {
  const value = container[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') fail(`${path} must be a base64url string`);
  if (value.length === 0 || value.length > maxChars) fail(`${path} must be 1 to ${maxChars} characters`);
  if (!decodeCanonicalBase64Url(value)) fail(`${path} must be base64url without padding`);
  return value;
}

function credentialId(body: Record<string, unknown>): string {
  const id = base64UrlField(body, 'id', 'id', WEBAUTHN_CREDENTIAL_ID_MAX_CHARS)!;
  const bytes = decodeCanonicalBase64Url(id)!.length;
  if (bytes < WEBAUTHN_CREDENTIAL_ID_MIN_BYTES || bytes > WEBAUTHN_CREDENTIAL_ID_MAX_BYTES) {
    fail(`id must encode ${WEBAUTHN_CREDENTIAL_ID_MIN_BYTES} to ${WEBAUTHN_CREDENTIAL_ID_MAX_BYTES} bytes`);
  }
  if (body.rawId !== id) fail('rawId must equal id');
  if (body.type !== 'public-key') fail('type must be "public-key"');
  return id;
}

function common(body: Record<string, unknown>) {
  const id = credentialId(body);
  const response = body.response;
  if (!isPlainObject(response)) fail('response must be a JSON object');
  const clientExtensionResults = body.clientExtensionResults;
  if (!isPlainObject(clientExtensionResults)) fail('clientExtensionResults must be a JSON object');
  const attachment = body.authenticatorAttachment;
  if (attachment !== undefined && attachment !== null && (typeof attachment !== 'string' || attachment.length > 32)) {
    fail('authenticatorAttachment must be a short string');
  }
  const authenticatorAttachment =
    typeof attachment === 'string' && ATTACHMENTS.includes(attachment)
      ? (attachment as AuthenticatorAttachment)
      : undefined;
  return {
    id,
    response,
    clientExtensionResults,
    ...(authenticatorAttachment ? { authenticatorAttachment } : {}),
  };
}

function parseRegistration(body: Record<string, unknown>): WebAuthnJsonParse<RegistrationResponseJSON> {
  try {
    const { id, response, clientExtensionResults, ...rest } = common(body);
    const clientDataJSON = base64UrlField(
      response,
      'clientDataJSON',
      'response.clientDataJSON',
      WEBAUTHN_FIELD_MAX_CHARS.clientDataJSON,
    )!;
    const attestationObject = base64UrlField(
      response,
      'attestationObject',
      'response.attestationObject',
      WEBAUTHN_FIELD_MAX_CHARS.attestationObject,
    )!;
    const authenticatorData = base64UrlField(
      response,
      'authenticatorData',
      'response.authenticatorData',
      WEBAUTHN_FIELD_MAX_CHARS.authenticatorData,
      true,
    );
    const publicKey = base64UrlField(
      response,
      'publicKey',
      'response.publicKey',
      WEBAUTHN_FIELD_MAX_CHARS.publicKey,
      true,
    );
    const algorithm = response.publicKeyAlgorithm;
    if (algorithm !== undefined && !Number.isSafeInteger(algorithm))
      fail('response.publicKeyAlgorithm must be an integer');
    const transports = response.transports;
    if (transports !== undefined) {
      if (!Array.isArray(transports) || transports.length > WEBAUTHN_TRANSPORTS_MAX) {
        fail(`response.transports must be a list of at most ${WEBAUTHN_TRANSPORTS_MAX} strings`);
      }
      if (
        transports.some((transport) => typeof transport !== 'string' || transport.length > WEBAUTHN_TRANSPORT_MAX_CHARS)
      ) {
        fail(`response.transports must hold strings of at most ${WEBAUTHN_TRANSPORT_MAX_CHARS} characters`);
      }
    }
    return {
      ok: true,
      value: {
        id,
        rawId: id,
        type: 'public-key',
        response: {
          clientDataJSON,
          attestationObject,
          transports: knownTransports(transports ?? []),
          ...(authenticatorData !== undefined ? { authenticatorData } : {}),
          ...(publicKey !== undefined ? { publicKey } : {}),
          ...(algorithm !== undefined ? { publicKeyAlgorithm: algorithm as number } : {}),
        },
        clientExtensionResults,
        ...rest,
      },
    };
  } catch (error) {
    if (error instanceof Refusal) return refuse(error.message);
    throw error;
  }
}

function parseAuthentication(body: Record<string, unknown>): WebAuthnJsonParse<AuthenticationResponseJSON> {
  try {
    const { id, response, clientExtensionResults, ...rest } = common(body);
    const clientDataJSON = base64UrlField(
      response,
      'clientDataJSON',
      'response.clientDataJSON',
      WEBAUTHN_FIELD_MAX_CHARS.clientDataJSON,
    )!;
    const authenticatorData = base64UrlField(
      response,
      'authenticatorData',
      'response.authenticatorData',
      WEBAUTHN_FIELD_MAX_CHARS.authenticatorData,
    )!;
    const signature = base64UrlField(response, 'signature', 'response.signature', WEBAUTHN_FIELD_MAX_CHARS.signature)!;
    // A browser sends no userHandle (or null) for a credential without one; "" is read as absent too.
    const handleGiven = response.userHandle !== null && response.userHandle !== '' ? response : {};
    const userHandle = base64UrlField(
      handleGiven,
      'userHandle',
      'response.userHandle',
      WEBAUTHN_FIELD_MAX_CHARS.userHandle,
      true,
    );
    if (userHandle !== undefined && decodeCanonicalBase64Url(userHandle)!.length > WEBAUTHN_USER_HANDLE_MAX_BYTES) {
      fail(`response.userHandle must encode at most ${WEBAUTHN_USER_HANDLE_MAX_BYTES} bytes`);
    }
    return {
      ok: true,
      value: {
        id,
        rawId: id,
        type: 'public-key',
        response: { clientDataJSON, authenticatorData, signature, ...(userHandle !== undefined ? { userHandle } : {}) },
        clientExtensionResults,
        ...rest,
      },
    };
  } catch (error) {
    if (error instanceof Refusal) return refuse(error.message);
    throw error;
  }
}
