import { generateSync } from 'otplib';

/**
 * The authenticator app of every test: RFC 6238 codes (SHA1, 6 digits, 30 s) from
 * otplib, not from src/factors/totp/totp-algorithm.ts, so a test never checks the
 * service against the code under test. Tests import TOTP codes from here only
 * (test/ci/independent-totp.test.ts checks it).
 */
const PERIOD_SECONDS = 30;

/** The RFC 6238 time step (counter) `time` falls in. */
export const totpStepAt = (time: Date): number => Math.floor(time.getTime() / 1000 / PERIOD_SECONDS);

/** The code of a base32 secret for one time step. */
export function totpCodeForStep(secretBase32: string, step: number): string {
  return generateSync({
    secret: secretBase32,
    epoch: step * PERIOD_SECONDS,
    period: PERIOD_SECONDS,
    digits: 6,
    algorithm: 'sha1',
  });
}

/** The code an authenticator shows at `time`, `offsetSteps` steps away. */
export function totpCodeAt(secretBase32: string, time: Date, offsetSteps = 0): string {
  return totpCodeForStep(secretBase32, totpStepAt(time) + offsetSteps);
}
