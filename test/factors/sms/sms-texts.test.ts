import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../src/errors';
import { SMS_MESSAGES } from '../../../src/factors/sms/sms-messages';
import { smsLocaleOf, SmsTexts } from '../../../src/factors/sms/sms-texts';
import { LIMITS } from '../../../src/limits';

const LOCALES = Object.keys(SMS_MESSAGES);
const CODE = '012345';

/** Every run of digits in the text, and those of exactly six. */
const sixDigitNumbers = (text: string) => (text.match(/\d+/g) ?? []).filter((digits) => digits.length === 6);

describe('SMS texts per locale (one ICU MessageFormat catalogue)', () => {
  it('has at least en, de, fr, es, pt-BR and ja, each its own text', () => {
    expect(LOCALES).toEqual(expect.arrayContaining(['en', 'de', 'fr', 'es', 'pt-BR', 'ja']));
    const texts = new SmsTexts('Acme', null);
    const rendered = LOCALES.map((locale) => texts.render(locale, CODE, 10));
    expect(new Set(rendered).size).toBe(LOCALES.length);
  });

  describe.each(LOCALES)('%s', (locale) => {
    it.each([1, 4, 10])('names the product and the minutes left (%i), the code its only 6-digit number', (minutes) => {
      const text = new SmsTexts('Acme', null).render(locale, CODE, minutes);
      expect(text).toContain('Acme');
      expect(text).toMatch(new RegExp(`(^|\\D)${minutes}(\\D|$)`));
      expect(sixDigitNumbers(text)).toEqual([CODE]);
      expect(text).not.toContain('\n');
    });

    it('ends with the WebOTP line when WEBOTP_DOMAIN is set; the code is then the only other 6-digit number', () => {
      const text = new SmsTexts('Acme', 'login.example.com').render(locale, CODE, 10);
      const lines = text.split('\n');
      expect(lines.at(-1)).toBe(`@login.example.com #${CODE}`);
      const body = lines.slice(0, -1).join('\n');
      expect(body).toContain('Acme');
      expect(body).toMatch(/(^|\D)10(\D|$)/);
      expect(sixDigitNumbers(body)).toEqual([CODE]);
      expect(lines.slice(0, -1).some((line) => line.startsWith('@'))).toBe(false);
    });

    it("keeps digits of the product's name out of the text: the code stays the only 6-digit number", () => {
      const text = new SmsTexts('Acme 123456 Bank', null).render(locale, CODE, 10);
      expect(text).toContain('Acme Bank');
      expect(sixDigitNumbers(text)).toEqual([CODE]);
    });
  });
});

describe('docs/api.md', () => {
  it('shows each text as the service writes it', () => {
    const page = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'api.md'), 'utf8');
    const texts = new SmsTexts('TwoFactor', null);
    const missing = LOCALES.filter(
      (locale) => !page.includes(`| \`${locale}\` | ${texts.render(locale, '123456', 10)} |`),
    );
    expect(missing).toEqual([]);
  });
});

describe("a user's SMS language", () => {
  it.each([
    ['de', 'de'],
    ['de-CH', 'de'],
    ['fr-CA', 'fr'],
    ['es-419', 'es'],
    ['pt-BR', 'pt-BR'],
    ['pt', 'pt-BR'],
    ['ja-JP', 'ja'],
    ['en-GB', 'en'],
    // Well-formed, but no text in that language: English.
    ['nl', 'en'],
    ['zh-Hant-TW', 'en'],
  ])('%s reads the %s text', (tag, locale) => {
    const texts = new SmsTexts('Acme', null);
    expect(texts.localeFor(smsLocaleOf(tag))).toBe(locale);
    expect(texts.render(smsLocaleOf(tag), CODE, 10)).toBe(texts.render(locale, CODE, 10));
  });

  it('is en when none is given, and kept as its canonical BCP 47 tag', () => {
    expect(smsLocaleOf(undefined)).toBe('en');
    expect(smsLocaleOf(null)).toBe('en');
    expect(smsLocaleOf('DE-ch')).toBe('de-CH');
    expect(smsLocaleOf(' pt-br ')).toBe('pt-BR');
  });

  it('formats the minutes in the text\'s own digits, whatever extension the tag asks for ("-u-nu-arab")', () => {
    const texts = new SmsTexts('Acme', null);
    expect(texts.render(smsLocaleOf('de-u-nu-arab'), CODE, 10)).toBe(texts.render('de', CODE, 10));
  });

  it.each([
    ['empty', ''],
    ['an underscore', 'en_US'],
    ['digits', '123'],
    ['a trailing hyphen', 'de-'],
    ['a subtag too long', 'abcdefghi'],
    ['private use only', 'x-private'],
    ['markup', '<script>'],
    [`longer than ${LIMITS.smsLocaleMaxLength} characters`, 'de-DE-u-co-phonebk-ca-gregory-nu-latn'],
    ['10 KB', 'en'.padEnd(10_000, 'x')],
  ])('refuses a malformed tag (%s) with BAD_USER_INPUT naming locale', (_name, tag) => {
    let thrown: unknown;
    try {
      smsLocaleOf(tag);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'BAD_USER_INPUT', extensions: { field: 'locale' } });
  });
});
