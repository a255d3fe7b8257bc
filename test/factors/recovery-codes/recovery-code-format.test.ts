import {
  formatRecoveryCode,
  generateRecoveryCode,
  normalizeRecoveryCode,
} from '../../../src/factors/recovery-codes/recovery-code-format';

describe('recovery code format', () => {
  it('is 25 base32 characters shown as five groups of five', () => {
    const code = formatRecoveryCode(generateRecoveryCode());
    expect(code).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/);
  });

  it('draws every character of the alphabet (no bias towards a subset)', () => {
    const seen = new Set([...Array.from({ length: 200 }, generateRecoveryCode).join('')]);
    expect(seen.size).toBe(32);
  });

  it('accepts any case, with or without dashes and spaces', () => {
    const code = 'ABCDE-FGHIJ-KLMNO-PQRST-UVWXY';
    for (const variant of [code, code.toLowerCase(), code.replace(/-/g, ''), code.replace(/-/g, ' '), ` ${code} `]) {
      expect(normalizeRecoveryCode(variant)).toBe('ABCDEFGHIJKLMNOPQRSTUVWXY');
    }
  });

  it.each(['ABCDE-FGHIJ-KLMNO-PQRST-UVWX1', 'ABCDE-FGHIJ-KLMNO-PQRST', '123456', 'ABCDE_FGHIJ_KLMNO_PQRST_UVWXY'])(
    'refuses %s',
    (input) => {
      expect(normalizeRecoveryCode(input)).toBeNull();
    },
  );
});
