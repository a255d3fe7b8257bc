import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A value as the service wrote it before associated data and key ids (v1:
 * `v1.<first 8 hex digits of the key's SHA-256>.<iv>.<data>.<tag>`), kept here
 * byte for byte so old rows are tested as they are stored.
 */
export function sealedAsBefore(key: Buffer, plaintext: string): string {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const iv = randomBytes(12);
  const cipher = createCipheriv(
    'aes-256-gcm',
    Buffer.from(hkdfSync('sha256', key, '', 'twofactor encryption', 32)),
    iv,
  );
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    id,
    iv.toString('base64url'),
    data.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}
