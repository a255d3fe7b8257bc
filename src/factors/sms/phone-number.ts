import { parsePhoneNumberWithError } from 'libphonenumber-js/max';
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
 * A phone number a code can be sent to: valid E.164, not of the kind
 * libphonenumber types as VOIP, and in SMS_ALLOWED_COUNTRIES when that is set.
 */
export function parsePhoneNumber(input: string, allowedCountries: string[] | null): PhoneNumber {
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
  if (parsed.getType() === 'VOIP') throw badInput('phoneNumber is a VOIP number: use a mobile number.', 'phoneNumber');
  if (allowedCountries && !allowedCountries.includes(parsed.country)) {
    throw badInput(`SMS cannot be sent to numbers in ${parsed.country}.`, 'phoneNumber');
  }
  return { e164: parsed.number, country: parsed.country, masked: maskPhoneNumber(parsed.number, parsed.countryCallingCode) };
}

export function maskPhoneNumber(e164: string, countryCallingCode: string): string {
  return `+${countryCallingCode} ••• ••• ${e164.slice(-4)}`;
}
