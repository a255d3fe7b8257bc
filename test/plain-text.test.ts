import { AppError } from '../src/errors';
import { parsePlainText } from '../src/plain-text';

const refusalOf = (value: unknown, maxLength = 100): AppError | undefined => {
  try {
    parsePlainText(value, 'name', maxLength);
  } catch (error) {
    return error as AppError;
  }
  return undefined;
};

describe('plain text (names and reasons callers give)', () => {
  it.each([
    ['ASCII', 'Acme Inc.', 'Acme Inc.'],
    ['accents, CJK and Arabic', 'Société 株式会社 شركة', 'Société 株式会社 شركة'],
    ['emoji with a variation selector', 'Rocket 🚀 ❤️', 'Rocket 🚀 ❤️'],
    ['surrounding spaces, trimmed', '  Acme  ', 'Acme'],
  ])('accepts %s', (_name, given, stored) => {
    expect(parsePlainText(given, 'name', 100)).toBe(stored);
  });

  it.each([
    ["a right-to-left override (the issue's example)", 'Acme\u202egnp.exe'],
    ...['\u202a', '\u202b', '\u202c', '\u202d', '\u202e'].map((c) => [
      `the bidi embedding/override U+${c.charCodeAt(0).toString(16)}`,
      `a${c}b`,
    ]),
    ...['\u2066', '\u2067', '\u2068', '\u2069'].map((c) => [
      `the bidi isolate U+${c.charCodeAt(0).toString(16)}`,
      `a${c}b`,
    ]),
    ...['\u200e', '\u200f', '\u061c'].map((c) => [
      `the bidi mark U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      `a${c}b`,
    ]),
    ...['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff'].map((c) => [
      `the zero-width U+${c.charCodeAt(0).toString(16)}`,
      `a${c}b`,
    ]),
    ['a leading byte order mark (which trim() would hide)', '\ufeffAcme'],
    ['a tag character (invisible text)', 'Acme\u{e0041}'],
    ['NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['a trailing newline', 'Acme\n'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['another C1 control', 'a\u009bb'],
    ['a line separator', 'a\u2028b'],
    ['a lone surrogate', 'a\ud800b'],
    ['an empty string', ''],
    ['blanks only', '   '],
    ['more than the maximum', 'x'.repeat(101)],
    ['a number', 5],
    ['null', null],
  ])('refuses %s with BAD_USER_INPUT naming the field', (_name, value) => {
    const refusal = refusalOf(value);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'name' } });
    // The message never repeats what was given.
    if (typeof value === 'string' && value.trim()) expect(refusal!.message).not.toContain(value);
  });

  it('counts the maximum after trimming', () => {
    expect(parsePlainText(` ${'x'.repeat(100)} `, 'name', 100)).toHaveLength(100);
  });
});
