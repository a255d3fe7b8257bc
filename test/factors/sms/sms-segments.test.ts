import { SegmentedMessage } from 'sms-segments-calculator';
import { SMS_MESSAGES } from '../../../src/factors/sms/sms-messages';
import { SmsTexts } from '../../../src/factors/sms/sms-texts';
import { LIMITS } from '../../../src/limits';

/**
 * What each text costs at its longest: the longest product name an SMS has room
 * for (LIMITS.smsProductNameMaxLength; a longer TOTP_ISSUER is warned about at
 * start), the longest WEBOTP_DOMAIN allowed, 10 minutes. GSM-7 carries 160
 * characters in one segment, UCS-2 (any character outside GSM-7) 70; Twilio's
 * segment calculator counts them as carriers do (GSM-7 extension characters
 * take two).
 */
const LONGEST_PRODUCT = 'P'.repeat(LIMITS.smsProductNameMaxLength);
const LONGEST_DOMAIN = `${'d'.repeat(LIMITS.webOtpDomainMaxLength - 4)}.com`;

function costs(product: string, domain: string | null) {
  const texts = new SmsTexts(product, domain);
  return Object.fromEntries(
    Object.keys(SMS_MESSAGES).map((locale) => {
      const message = new SegmentedMessage(texts.render(locale, '000000', 10), 'auto');
      return [locale, { encoding: message.encodingName, segments: message.segmentsCount }];
    }),
  );
}

describe('SMS segments per locale, each text at its longest', () => {
  it('is GSM-7 in every language but Japanese (UCS-2)', () => {
    const encodings = Object.fromEntries(
      Object.entries(costs(LONGEST_PRODUCT, LONGEST_DOMAIN)).map(([locale, cost]) => [locale, cost.encoding]),
    );
    expect(encodings).toEqual({
      en: 'GSM-7',
      de: 'GSM-7',
      fr: 'GSM-7',
      es: 'GSM-7',
      'pt-BR': 'GSM-7',
      ja: 'UCS-2',
    });
  });

  it('fits one segment in every language without the WebOTP line', () => {
    const segments = Object.values(costs(LONGEST_PRODUCT, null)).map((cost) => cost.segments);
    expect(segments).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('fits one segment with the WebOTP line in every GSM-7 language; Japanese then takes two', () => {
    const segments = Object.fromEntries(
      Object.entries(costs(LONGEST_PRODUCT, LONGEST_DOMAIN)).map(([locale, cost]) => [locale, cost.segments]),
    );
    expect(segments).toEqual({ en: 1, de: 1, fr: 1, es: 1, 'pt-BR': 1, ja: 2 });
  });
});
