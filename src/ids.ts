import { AppError, badInput } from './errors';

/** Upstream ids: 1 to 128 printable ASCII characters, no spaces; compared byte for byte. */
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export function parseId(value: unknown, field: string, onInvalid?: () => AppError): string {
  if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
  throw onInvalid
    ? onInvalid()
    : badInput(`${field} must be 1 to 128 printable ASCII characters without spaces.`, field);
}
