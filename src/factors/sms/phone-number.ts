import { type NumberType, parsePhoneNumberWithError, type PhoneNumberType } from 'libphonenumber-js/max';
import { badInput } from '../../errors';

export interface PhoneNumber {
  /** E.164, e.g. +14155552671. */
  e164: string;
  /** ISO 3166 country, e.g. US. */
  country: string;
  /** +1 ••• ••• 2671: what is ever shown or logged. */
  masked: string;
}

/**
 * The kinds that receive SMS. Everything else is refused: premium-rate and
 * shared-cost numbers pay whoever runs them for each message (SMS pumping), and
 * toll-free, pager, personal, UAN, VOIP, voicemail and fixed-line numbers either
 * cannot receive a text or are what pumping rings use.
 */
const SMS_CAPABLE: NumberType[] = ['MOBILE', 'FIXED_LINE_OR_MOBILE'];

const KIND_NAMES: Record<PhoneNumberType, string> = {
  MOBILE: 'mobile',
  FIXED_LINE_OR_MOBILE: 'mobile',
  FIXED_LINE: 'fixed-line',
  PREMIUM_RATE: 'premium-rate',
  TOLL_FREE: 'toll-free',
  SHARED_COST: 'shared-cost',
  VOIP: 'VOIP',
  PERSONAL_NUMBER: 'personal',
  PAGER: 'pager',
  UAN: 'UAN',
  VOICEMAIL: 'voicemail',
};

/**
 * A phone number a code can be sent to: valid E.164, of a kind that
 * libphonenumber types as mobile (or possibly mobile). Whether its country may
 * receive SMS (SMS_ALLOWED_COUNTRIES, the caps) is the send limits' to say.
 */
export function parsePhoneNumber(input: string): PhoneNumber {
  const trimmed = input.trim();
  if (!/^\+[1-9][0-9]{6,14}$/.test(trimmed.replace(/[\s().-]/g, ''))) {
    throw badInput('phoneNumber must be an E.164 number, e.g. +14155552671.', 'phoneNumber');
  }
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(trimmed);
  } catch {
    throw badInput('phoneNumber is not a valid phone number.', 'phoneNumber');
  }
  if (!parsed.isValid() || !parsed.country) throw badInput('phoneNumber is not a valid phone number.', 'phoneNumber');
  const type = parsed.getType();
  if (!SMS_CAPABLE.includes(type)) {
    const kind = type ? `a ${KIND_NAMES[type]} number` : 'a number of unknown kind';
    throw badInput(`phoneNumber is ${kind}: SMS codes go to mobile numbers only.`, 'phoneNumber');
  }
  return {
    e164: parsed.number,
    country: parsed.country,
    masked: maskPhoneNumber(parsed.number, parsed.countryCallingCode),
  };
}

export function maskPhoneNumber(e164: string, countryCallingCode: string): string {
  return `+${countryCallingCode} ••• ••• ${e164.slice(-4)}`;
}
