import { randomBase32 } from '../../infra/crypto/random';

/** Ten codes at a time, each 25 base32 characters (125 bits) shown as five groups of five. */
const LENGTH = 25;

export function generateRecoveryCode(): string {
  return randomBase32(LENGTH);
}

export function formatRecoveryCode(code: string): string {
  return code.match(/.{5}/g)!.join('-');
}

/** Accepted in any case, with or without dashes and spaces; null when it is not a recovery code's shape. */
export function normalizeRecoveryCode(input: string): string | null {
  const compact = input.replace(/[-\s]/g, '').toUpperCase();
  return compact.length === LENGTH && /^[A-Z2-7]+$/.test(compact) ? compact : null;
}
