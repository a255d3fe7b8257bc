import { generateSecret } from 'otplib';
import { matchTotpStep, otpauthUri, totpCode, totpStepAt } from '../../../src/factors/totp/totp-algorithm';
import { totpCodeAt, totpCodeForStep, totpStepAt as independentStepAt } from '../../support/totp';

// RFC 6238 appendix B: the SHA1 secret "12345678901234567890", base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// RFC 6238 appendix B, SHA1: time (s) and the 8-digit code; 6 digits are its last six (RFC 4226 5.3).
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1_111_111_109, '07081804'],
  [1_111_111_111, '14050471'],
  [1_234_567_890, '89005924'],
  [2_000_000_000, '69279037'],
  [20_000_000_000, '65353130'],
];

describe('TOTP (RFC 6238, SHA1, 6 digits, 30 s)', () => {
  it.each(RFC_VECTORS)('the tests’ independent authenticator (otplib) gives the RFC code at %i s', (seconds, code) => {
    expect(totpCodeAt(RFC_SECRET, new Date(seconds * 1000))).toBe(code.slice(-6));
  });

  it.each(RFC_VECTORS)('gives the RFC code at %i s', (seconds, code) => {
    expect(totpCode(RFC_SECRET, totpStepAt(new Date(seconds * 1000)))).toBe(code.slice(-6));
  });

  // Steps spread from 1970 to year 4011 (step 2^31 - 1), the years around now among them.
  const today = independentStepAt(new Date());
  const steps = [
    ...Array.from({ length: 200 }, (_, i) => Math.floor((i * (2 ** 31 - 1)) / 199)),
    ...Array.from({ length: 100 }, (_, i) => today - 50 + i),
  ];

  it('gives the code otplib gives, for many secrets and steps until year 4011', () => {
    for (const step of steps) {
      const secret = generateSecret();
      expect([secret, step, totpCode(secret, step)]).toEqual([secret, step, totpCodeForStep(secret, step)]);
    }
  });

  // speakeasy 2.0.0 builds the counter with 32-bit signed arithmetic: from step 2^31
  // (year 4011) its codes are not RFC 4226's. Skipped so CI names it until the
  // algorithm stops depending on speakeasy (src/, not the tests).
  it.skip('gives the code otplib gives from step 2^31 (year 4011) on', () => {
    const secret = generateSecret();
    for (const step of [2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 33]) {
      expect([step, totpCode(secret, step)]).toEqual([step, totpCodeForStep(secret, step)]);
    }
  });

  it('counts steps of 30 s from the Unix epoch, as otplib does', () => {
    for (const ms of [0, 29_999, 30_000, 59_999, 1_800_000_015_000, Date.UTC(2100, 0, 1)]) {
      expect(totpStepAt(new Date(ms))).toBe(independentStepAt(new Date(ms)));
    }
    expect(totpStepAt(new Date(59_999))).toBe(1);
  });

  const at = new Date(1_800_000_015_000);
  const current = independentStepAt(at);

  it.each([-1, 0, 1])('accepts the code of step T%+d and says which step matched', (offset) => {
    expect(matchTotpStep(RFC_SECRET, totpCodeForStep(RFC_SECRET, current + offset), at)).toBe(current + offset);
  });

  it.each([-2, 2, -10])('refuses the code of step T%+d', (offset) => {
    expect(matchTotpStep(RFC_SECRET, totpCodeForStep(RFC_SECRET, current + offset), at)).toBeNull();
  });

  it("refuses the variants of a right code that speakeasy's own verify would let through", () => {
    const right = totpCodeForStep(RFC_SECRET, current);
    const variants = [
      `+${right.slice(1)}`,
      `${right.slice(1)}a`,
      `${right}0`,
      right.slice(1),
      ` ${right}`,
      `${right}\n`,
      right.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))),
      `${right.slice(0, 3)} ${right.slice(3)}`,
      `0x${right}`,
      '',
    ];
    for (const variant of variants) expect(matchTotpStep(RFC_SECRET, variant, at)).toBeNull();
  });

  it('builds the otpauth URI authenticator apps scan', () => {
    expect(otpauthUri('ABC', 'Acme Cloud', 'alice@example.com')).toBe(
      'otpauth://totp/Acme%20Cloud:alice%40example.com?secret=ABC&issuer=Acme+Cloud&algorithm=SHA1&digits=6&period=30',
    );
  });
});
