import { matchTotpStep, otpauthUri, totpCode, totpStepAt } from '../../../src/factors/totp/totp-algorithm';

// RFC 6238 appendix B: the SHA1 secret "12345678901234567890", base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP (RFC 6238, SHA1, 6 digits, 30 s)', () => {
  it('matches the RFC test vectors', () => {
    expect(totpCode(RFC_SECRET, totpStepAt(new Date(59_000)))).toBe('287082');
    expect(totpCode(RFC_SECRET, totpStepAt(new Date(1_111_111_109_000)))).toBe('081804');
    expect(totpCode(RFC_SECRET, totpStepAt(new Date(2_000_000_000_000)))).toBe('279037');
  });

  const now = new Date(1_800_000_015_000);
  const current = totpStepAt(now);

  it.each([-1, 0, 1])('accepts the code of step T%+d and says which step matched', (offset) => {
    expect(matchTotpStep(RFC_SECRET, totpCode(RFC_SECRET, current + offset), now)).toBe(current + offset);
  });

  it.each([-2, 2, -10])('refuses the code of step T%+d', (offset) => {
    expect(matchTotpStep(RFC_SECRET, totpCode(RFC_SECRET, current + offset), now)).toBeNull();
  });

  it("refuses the variants of a right code that speakeasy's own verify would let through", () => {
    const right = totpCode(RFC_SECRET, current);
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
    for (const variant of variants) expect(matchTotpStep(RFC_SECRET, variant, now)).toBeNull();
  });

  it('builds the otpauth URI authenticator apps scan', () => {
    expect(otpauthUri('ABC', 'Acme Cloud', 'alice@example.com')).toBe(
      'otpauth://totp/Acme%20Cloud:alice%40example.com?secret=ABC&issuer=Acme+Cloud&algorithm=SHA1&digits=6&period=30',
    );
  });
});
