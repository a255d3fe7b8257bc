// RFC 6238 TOTP (SHA1, 6 digits, 30 s), as an authenticator app computes it.
import { createHmac } from 'node:crypto';

export const STEP_SECONDS = 30;

export const currentStep = (nowMs = Date.now()) => Math.floor(nowMs / 1000 / STEP_SECONDS);

/** The 6-digit code of time step `step` for the secret (its raw bytes, or a KeyObject of them). */
export function totpCode(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', secret).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = (digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(binary).padStart(6, '0');
}
