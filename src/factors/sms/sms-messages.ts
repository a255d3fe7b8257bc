/**
 * The SMS texts, one ICU MessageFormat message per locale, all in this one place
 * (rendered by intl-messageformat: sms-texts.ts). Arguments: `product`
 * (TOTP_ISSUER, digits removed), `code` (the 6 digits) and `minutes` (left, 1 to 10).
 *
 * Rules every text keeps (test/factors/sms/sms-texts.test.ts): it names the
 * product and the minutes, the code is its only 6-digit number, it is one line
 * (the WebOTP line is added after it). Wording keeps to the GSM-7 alphabet where
 * the language allows, so a text is one 160-character segment: Spanish says
 * "clave" and Brazilian Portuguese "token" because "código" (ó) is not GSM-7;
 * Japanese needs UCS-2 (70 characters a segment) whatever the wording
 * (test/factors/sms/sms-segments.test.ts says which fit).
 */
export const SMS_MESSAGES = {
  en: '{product} verification code: {code}. It expires in {minutes, plural, one {# minute} other {# minutes}}. Do not share it.',
  de: '{product}: Ihr Code lautet {code}. Er ist {minutes, plural, one {# Minute} other {# Minuten}} gültig. Geben Sie ihn nicht weiter.',
  fr: '{product} : votre code est {code}. Il expire dans {minutes, plural, one {# minute} other {# minutes}}. Ne le partagez pas.',
  es: '{product}: tu clave es {code}. Vence en {minutes, plural, one {# minuto} other {# minutos}}. No la compartas.',
  'pt-BR':
    '{product}: seu token é {code}. Vale por {minutes, plural, one {# minuto} other {# minutos}}. Nunca o compartilhe.',
  ja: '{product}の認証コード：{code}（{minutes, plural, other {#分間有効}}）。他人に教えないでください。',
} as const;

export type SmsTextLocale = keyof typeof SMS_MESSAGES;

/** The text of a user without a language, or of one the catalogue has no text for. */
export const DEFAULT_SMS_LOCALE: SmsTextLocale = 'en';
