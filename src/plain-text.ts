import { badInput } from './errors';

/**
 * What plain text may not hold: controls (C0, DEL, C1: \p{Cc}), format characters
 * (\p{Cf}: bidi embeddings, overrides, isolates and marks, zero-width spaces and
 * joiners, the BOM, invisible tags), line and paragraph separators, and lone
 * surrogates. Such characters make a name read otherwise than it is
 * ("Acme\u202egnp.exe" shows as "Acmeexe.png") or hide text in it.
 */
const NOT_PLAIN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/**
 * A name or reason a caller gives (organization names, admin reasons, later key
 * and device names): trimmed, 1 to `maxLength` UTF-16 units (so never more
 * characters than a column of that length holds), plain text only.
 */
export function parsePlainText(value: unknown, field: string, maxLength: number): string {
  // Checked before trimming: trim() drops a BOM, and a refusal should not depend on where the character is.
  const text = typeof value === 'string' && !NOT_PLAIN.test(value) ? value.trim() : '';
  if (text.length === 0 || text.length > maxLength) {
    throw badInput(
      `${field} must be 1 to ${maxLength} characters of plain text, without control, bidi or invisible characters.`,
      field,
    );
  }
  return text;
}
