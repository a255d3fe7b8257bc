import { match } from '@formatjs/intl-localematcher';
import { IntlMessageFormat } from 'intl-messageformat';
import { badInput } from '../../errors';
import { LIMITS } from '../../limits';
import { DEFAULT_SMS_LOCALE, SMS_MESSAGES, type SmsTextLocale } from './sms-messages';

const LOCALES = Object.keys(SMS_MESSAGES) as SmsTextLocale[];

/**
 * A user's SMS language as given to startSmsSetup: none is `en`; a well-formed
 * BCP 47 tag (as Intl reads it) is kept in its canonical form, even one the
 * catalogue has no text for (it reads English until a text is added); anything
 * else is BAD_USER_INPUT.
 */
export function smsLocaleOf(input: string | null | undefined): string {
  if (input === undefined || input === null) return DEFAULT_SMS_LOCALE;
  const malformed = () =>
    badInput(
      `locale must be a BCP 47 language tag of at most ${LIMITS.smsLocaleMaxLength} characters, e.g. de or pt-BR.`,
      'locale',
    );
  const trimmed = input.trim();
  if (trimmed.length > LIMITS.smsLocaleMaxLength) throw malformed();
  let canonical: string;
  try {
    [canonical] = Intl.getCanonicalLocales(trimmed);
  } catch {
    throw malformed();
  }
  if (!canonical || canonical.length > LIMITS.smsLocaleMaxLength) throw malformed();
  return canonical;
}

/**
 * Renders the SMS text for a user's language: the catalogue's closest locale
 * (CLDR language matching: de-CH reads de, pt reads pt-BR, nl reads en),
 * formatted in that locale (so a tag's `-u-nu-…` cannot change the digits), then
 * the WebOTP line `@<domain> #<code>` when WEBOTP_DOMAIN is set.
 */
export class SmsTexts {
  private readonly product: string;
  private readonly formats = new Map<SmsTextLocale, IntlMessageFormat>();
  private readonly matched = new Map<string, SmsTextLocale>();

  constructor(
    product: string,
    private readonly webOtpDomain: string | null,
  ) {
    // Digits go, so the code stays the only 6-digit number (any script's digits: autofill reads them too).
    this.product =
      product
        .replace(/\p{Nd}/gu, '')
        .replace(/\s+/g, ' ')
        .trim() || 'TwoFactor';
    for (const locale of LOCALES) this.formats.set(locale, new IntlMessageFormat(SMS_MESSAGES[locale], locale));
  }

  /** The catalogue locale whose text a user with this (canonical) tag gets. */
  localeFor(tag: string): SmsTextLocale {
    let locale = this.matched.get(tag);
    if (locale === undefined) {
      try {
        locale = match([tag], LOCALES, DEFAULT_SMS_LOCALE, { algorithm: 'best fit' }) as SmsTextLocale;
      } catch {
        locale = DEFAULT_SMS_LOCALE;
      }
      // Bounded: tags come from stored factors, and the map is only a cache of a pure function.
      if (this.matched.size < 1_000) this.matched.set(tag, locale);
    }
    return locale;
  }

  render(tag: string, code: string, minutes: number): string {
    const text = String(this.formats.get(this.localeFor(tag))!.format({ product: this.product, code, minutes }));
    return this.webOtpDomain ? `${text}\n@${this.webOtpDomain} #${code}` : text;
  }
}
