import { timingSafeEqual } from 'node:crypto';
import speakeasy from 'speakeasy';
import { isSixDigits } from '../../attempts/second-factor';

/**
 * RFC 6238 (SHA1, 6 digits, 30 s), with speakeasy computing the codes and this
 * module deciding what matches: speakeasy's own verify parses with parseInt (so
 * `+26920` passes for `026920`), defaults to ASCII secrets and keeps no replay
 * state. Here: only `^\d{6}$`, always base32, constant-time comparison, one step
 * either way, and the matched step is returned so the caller can refuse replays.
 * The only module that imports speakeasy.
 */
export const TOTP_PERIOD_SECONDS = 30;

export const totpStepAt = (time: Date) => Math.floor(time.getTime() / 1000 / TOTP_PERIOD_SECONDS);

export function totpCode(secretBase32: string, step: number): string {
  return speakeasy.totp({
    secret: secretBase32,
    encoding: 'base32',
    time: step * TOTP_PERIOD_SECONDS,
    step: TOTP_PERIOD_SECONDS,
    digits: 6,
    algorithm: 'sha1',
  });
}

/** The latest of the steps T-1, T, T+1 whose code is `code`; null when none is. */
export function matchTotpStep(secretBase32: string, code: string, now: Date): number | null {
  if (!isSixDigits(code)) return null;
  const given = Buffer.from(code, 'ascii');
  const current = totpStepAt(now);
  let matched: number | null = null;
  // Every candidate is compared, so the time taken does not say which matched.
  for (const step of [current - 1, current, current + 1]) {
    if (timingSafeEqual(Buffer.from(totpCode(secretBase32, step), 'ascii'), given)) matched = step;
  }
  return matched;
}

export function otpauthUri(secretBase32: string, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: secretBase32,
    issuer,
    algorithm: 'SHA1',
    digits: '6',
    period: String(TOTP_PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
