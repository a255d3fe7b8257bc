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

/**
 * AES-256-GCM for secrets at rest (TOTP secrets, phone numbers, recovery codes),
 * and HMAC-SHA256 for finding them without decrypting.
 *
 * Ciphertexts name the key that made them (`v1.<keyId>.<iv>.<data>.<tag>`), so the
 * current key encrypts and retired keys still decrypt: keys rotate without a
 * migration. Keyed hashes are made under every key, so a lookup finds values
 * hashed before a rotation too.
 */
export class SecretBox {
  // KeyObjects, not Buffers: Node 24 checks a Buffer key's type by throwing, which cost ~13 µs per HMAC.
  private readonly keys: { id: string; encryption: KeyObject; hashing: KeyObject }[];

  constructor(currentKey: Buffer, retiredKeys: Buffer[] = []) {
    this.keys = [currentKey, ...retiredKeys].map((key) => ({
      id: createHash('sha256').update(key).digest('hex').slice(0, 8),
      // Separate subkeys, so a hash never doubles as a key stream.
      encryption: createSecretKey(Buffer.from(hkdfSync('sha256', key, '', 'twofactor encryption', 32))),
      hashing: createSecretKey(Buffer.from(hkdfSync('sha256', key, '', 'twofactor lookup hash', 32))),
    }));
  }

  encrypt(plaintext: string): string {
    const key = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      key.id,
      iv.toString('base64url'),
      data.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join('.');
  }

  decrypt(ciphertext: string): string {
    const [version, keyId, iv, data, tag] = ciphertext.split('.');
    const key = this.keys.find((candidate) => candidate.id === keyId);
    if (version !== 'v1' || !key) throw new Error(`no key ${keyId} to decrypt with`);
    const decipher = createDecipheriv('aes-256-gcm', key.encryption, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
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
}
