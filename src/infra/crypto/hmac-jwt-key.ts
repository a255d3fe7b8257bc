import { createSecretKey, type webcrypto } from 'node:crypto';

export type HmacJwtKey = webcrypto.CryptoKey;

/**
 * An HS256 secret as a CryptoKey, made once: given raw bytes, jose imports them
 * into WebCrypto again for every token it signs or verifies (about 40 % of its time).
 */
export const hmacJwtKey = (secret: string): HmacJwtKey =>
  createSecretKey(Buffer.from(secret, 'utf8')).toCryptoKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
