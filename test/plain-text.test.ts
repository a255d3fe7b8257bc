import { AppError } from '../src/errors';
import { parsePlainText } from '../src/plain-text';

const hex = (codePoint: number) => codePoint.toString(16).toUpperCase().padStart(4, '0');

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
    ['an accent as a combining mark on its letter', 'Cafe\u0301 Zoe\u0308', 'Cafe\u0301 Zoe\u0308'],
    ['Devanagari, Thai and Hangul (marks on their letters)', 'हिन्दी ภาษาไทย 한국어', 'हिन्दी ภาษาไทย 한국어'],
    ['emoji without a variation selector', 'Rocket 🚀 ❤', 'Rocket 🚀 ❤'],
    ['emoji with a skin tone, and a flag', 'Team 👍🏽 🇫🇷', 'Team 👍🏽 🇫🇷'],
    ['a keycap without a variation selector (a mark on a digit)', 'Key 1\u20e3', 'Key 1\u20e3'],
    ['inner spaces, a no-break space among them', 'Büro\u00a0Schlüssel 2', 'Büro\u00a0Schlüssel 2'],
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
    // Issue 21, finding 9: blank and invisible characters that are not controls or format characters.
    ...[0x3164, 0x115f, 0x1160, 0xffa0].map((c) => [
      `the Hangul filler U+${hex(c)}`,
      `Alice${String.fromCodePoint(c)}`,
    ]),
    ...[0x3164, 0x115f, 0xffa0, 0x2800].map((c) => [`a name of U+${hex(c)} alone`, String.fromCodePoint(c).repeat(3)]),
    ['the Braille blank U+2800 (a blank filler, not default-ignorable)', 'Alice\u2800Phone'],
    ['the combining grapheme joiner U+034F', 'Ali\u034fce'],
    ...[0xfe00, 0xfe0f, 0xe0100, 0xe01ef].map((c) => [
      `the variation selector U+${hex(c)}`,
      `Heart \u2764${String.fromCodePoint(c)}`,
    ]),
    ['an emoji with its variation selector (U+FE0F is default-ignorable)', 'Rocket 🚀 ❤️'],
    ['an emoji ZWJ sequence (U+200D is default-ignorable)', 'Dev 👩\u200d💻'],
    ...[0x17b4, 0x17b5].map((c) => [`the Khmer inherent vowel U+${hex(c)}`, `ab${String.fromCodePoint(c)}c`]),
    ['the soft hyphen U+00AD', 'Ali\u00adce'],
    ['an invisible operator U+2062', 'a\u2062b'],
    ['the Mongolian vowel separator U+180E', 'a\u180eb'],
    ['a lone combining mark', '\u0301'],
    ['a combining mark at the start', '\u0301Alice'],
    ['a combining mark after a space (no base)', 'Alice \u0301Phone'],
    ['combining marks only', '\u0301\u0302\u0303'],
    ['an unassigned code point U+0378', 'a\u0378b'],
    ['a noncharacter U+FFFF', 'a\uffffb'],
    ['a noncharacter U+1FFFE', `a${String.fromCodePoint(0x1fffe)}b`],
    ['nothing visible: an ideographic space', '\u3000'],
    ['nothing visible: a no-break space', '\u00a0'],
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
