import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

/** One key of ENCRYPTION_KEYS: its id (config-defined, written into every ciphertext it makes) and its 32 bytes. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/**
 * What a value is sealed to (the associated data): its purpose (`totp-secret`,
 * a closed set named in code: also a metric label) and the row it belongs to
 * (the user id, or `<method>:<user id>`: variable-length parts last, so two rows
 * never give the same text). A ciphertext opens only with the binding it was
 * sealed with: copied to another row, or used for another purpose, it does not.
 */
export interface SecretBinding {
  purpose: string;
  row: string;
  /** The user the value belongs to, when it is a user's: for the audit event of a refusal. */
  userId?: string;
}

/** Why a ciphertext was refused; never the value, the key or the row's data. */
export type RefusalReason =
  /** Not a ciphertext this service writes, or a tag shorter than 16 bytes. */
  | 'malformed'
  /** Made under a key this instance is not given (ENCRYPTION_KEYS). */
  | 'unknown-key'
  /** The key is known, but it does not open for this row and purpose: moved or altered. */
  | 'does-not-open';

/** A stored value that does not decrypt for its row: fail closed (each caller answers its contract's error). */
export class CiphertextRefused extends Error {
  constructor(
    readonly binding: SecretBinding,
    readonly reason: RefusalReason,
    /** The key id the ciphertext names (a configured id; for values from before key ids, the key's fingerprint). */
    readonly keyId: string | null,
  ) {
    super(`a stored ${binding.purpose} was refused (${reason}${keyId === null ? '' : `, key ${keyId}`})`);
    this.name = 'CiphertextRefused';
  }
}

/** Which key, and which format, a stored ciphertext names (read without decrypting). */
export interface CiphertextLabel {
  /** v2: bound to its row (associated data); v1: from before, bound to nothing. */
  version: 'v1' | 'v2';
  /** v2: the configured key id; v1: the key's fingerprint (first 8 hex digits of its SHA-256). */
  keyId: string;
}

const TAG_BYTES = 16;
const NONCE_BYTES = 12;
/** Key ids as ENCRYPTION_KEYS gives them (config.ts checks the same). */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;

interface Key {
  id: string;
  /** sha256(key) in hex, first 8 digits: how v1 ciphertexts named their key. */
  fingerprint: string;
  encryption: KeyObject;
  hashing: KeyObject;
}

/**
 * AES-256-GCM for secrets at rest (TOTP secrets, phone numbers, recovery codes,
 * pending setups, webhook secrets, login challenges in the store), and
 * HMAC-SHA256 for finding values without decrypting (docs/adr/0022-ciphertexts-bound-and-rotated.md).
 *
 * `v2.<key id>.<nonce>.<data>.<tag>` (base64url): a random 96-bit nonce, a
 * 16-byte tag (a shorter one is refused), and associated data
 * `<purpose>:<row>` that is not stored but rebuilt from the row, so a value
 * copied elsewhere does not open. The first key seals; every key opens. `v1`
 * values (from before: no associated data, the key named by its fingerprint)
 * still open under their key, until key rotation rewrites them as v2.
 */
export class SecretBox {
  // KeyObjects, not Buffers: Node 24 checks a Buffer key's type by throwing, which cost ~13 µs per HMAC.
  private readonly keys: Key[];
  private readonly byId = new Map<string, Key>();
  private readonly byFingerprint = new Map<string, Key>();
  private readonly listeners: ((refusal: CiphertextRefused) => void)[] = [];

  /**
   * The keys, the current (sealing) one first. A Buffer (and retired Buffers)
   * are ENCRYPTION_KEY and ENCRYPTION_KEYS_RETIRED: key ids `0`, `r1`, `r2`, ...
   */
  constructor(keys: readonly EncryptionKey[] | Buffer, retiredKeys: readonly Buffer[] = []) {
    const given = Buffer.isBuffer(keys) ? legacyKeys(keys, retiredKeys) : keys;
    if (given.length === 0) throw new Error('SecretBox needs at least one key');
    this.keys = given.map(({ id, key }) => ({
      id,
      fingerprint: fingerprintOf(key),
      // Separate subkeys, so a hash never doubles as a key stream.
      encryption: createSecretKey(Buffer.from(hkdfSync('sha256', key, '', 'twofactor encryption', 32))),
      hashing: createSecretKey(Buffer.from(hkdfSync('sha256', key, '', 'twofactor lookup hash', 32))),
    }));
    for (const key of this.keys) {
      if (!KEY_ID_PATTERN.test(key.id))
        throw new Error(`key id ${JSON.stringify(key.id)} is not 1-16 of A-Z a-z 0-9 _ -`);
      if (this.byId.has(key.id)) throw new Error(`key id ${key.id} is given twice`);
      this.byId.set(key.id, key);
      this.byFingerprint.set(key.fingerprint, key);
    }
  }

  /** The id of the key that seals. */
  get currentKeyId(): string {
    return this.keys[0].id;
  }

  /** Every key id, the current one first. */
  get keyIds(): string[] {
    return this.keys.map((key) => key.id);
  }

  /** Told of every refusal (the keys module: audit, metric, log); a listener must not throw. */
  onRefused(listener: (refusal: CiphertextRefused) => void): void {
    this.listeners.push(listener);
  }

  /** Encrypts under the current key, bound to `binding`. */
  seal(plaintext: string, binding: SecretBinding): string {
    const key = this.keys[0];
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(binding));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v2',
      key.id,
      nonce.toString('base64url'),
      data.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  /** Decrypts a value sealed to `binding` (or a v1 value, bound to nothing); CiphertextRefused otherwise. */
  open(ciphertext: string, binding: SecretBinding): string {
    const parts = ciphertext.split('.');
    const [version, keyId, nonce, data, tag] = parts;
    if (parts.length !== 5 || (version !== 'v1' && version !== 'v2')) throw this.refuse(binding, 'malformed', null);
    const key = version === 'v2' ? this.byId.get(keyId) : this.byFingerprint.get(keyId);
    if (!key) throw this.refuse(binding, 'unknown-key', keyId);
    const nonceBytes = Buffer.from(nonce, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    // A truncated tag is refused before GCM sees it: a 4-byte tag is 2^32 tries from a forgery.
    if (nonceBytes.length !== NONCE_BYTES || tagBytes.length !== TAG_BYTES)
      throw this.refuse(binding, 'malformed', key.id);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encryption, nonceBytes, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tagBytes);
      if (version === 'v2') decipher.setAAD(associatedData(binding));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw this.refuse(binding, 'does-not-open', key.id);
    }
  }

  /**
   * Whether the value is sealed as `seal` would seal it now (v2, the current
   * key): what key rotation leaves alone. Read without decrypting.
   */
  isCurrent(ciphertext: string): boolean {
    return ciphertext.startsWith(`v2.${this.keys[0].id}.`);
  }

  /**
   * The key id a label names, as configured: a v1 value's fingerprint is
   * mapped to its key's id; null for a key this instance is not given.
   */
  configuredKeyId(label: CiphertextLabel): string | null {
    const key = label.version === 'v2' ? this.byId.get(label.keyId) : this.byFingerprint.get(label.keyId);
    return key?.id ?? null;
  }

  /** The keyed hash under the current key: what to store. */
  hash(value: string): string {
    return this.hashWith(this.keys[0].hashing, value);
  }

  /** The keyed hashes under every key: what to look up. */
  lookupHashes(value: string): string[] {
    return this.keys.map((key) => this.hashWith(key.hashing, value));
  }

  private hashWith(key: KeyObject, value: string): string {
    return createHmac('sha256', key).update(value).digest('base64url');
  }

  private refuse(binding: SecretBinding, reason: RefusalReason, keyId: string | null): CiphertextRefused {
    const refusal = new CiphertextRefused(binding, reason, keyId);
    for (const listener of this.listeners) listener(refusal);
    return refusal;
  }
}

/** The version and key id at the start of a stored value, or null for anything else. */
export function labelOf(ciphertext: string): CiphertextLabel | null {
  const match = /^(v1|v2)\.([A-Za-z0-9_-]{1,16})\./.exec(ciphertext);
  return match ? { version: match[1] as 'v1' | 'v2', keyId: match[2] } : null;
}

/** How a v1 ciphertext named its key: the first 8 hex digits of the key's SHA-256. */
export function fingerprintOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** ENCRYPTION_KEY and ENCRYPTION_KEYS_RETIRED as ENCRYPTION_KEYS would give them (contract: "Secrets and SMS"). */
export function legacyKeys(current: Buffer, retired: readonly Buffer[] = []): EncryptionKey[] {
  return [{ id: '0', key: current }, ...retired.map((key, index) => ({ id: `r${index + 1}`, key }))];
}

const associatedData = (binding: SecretBinding) => Buffer.from(`${binding.purpose}:${binding.row}`, 'utf8');
