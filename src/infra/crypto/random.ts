import { randomBytes, randomInt } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return output;
}

/** `length` characters drawn uniformly from the base32 alphabet (5 bits each). */
export function randomBase32(length: number): string {
  let output = '';
  for (let index = 0; index < length; index += 1) output += BASE32_ALPHABET[randomInt(32)];
  return output;
}

/** A decimal code of `digits` digits, uniform, leading zeros kept. */
export function randomDigits(digits: number): string {
  return randomInt(10 ** digits)
    .toString()
    .padStart(digits, '0');
}

/** An unguessable identifier: 144 random bits, URL-safe. */
export function randomId(): string {
  return randomBytes(18).toString('base64url');
}
