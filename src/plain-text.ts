import { badInput } from './errors';

/**
 * What plain text may not hold, judged by Unicode properties (the engine's
 * Unicode version): controls (C0, DEL, C1: \p{Cc}), format characters (\p{Cf}:
 * bidi embeddings, overrides, isolates and marks, zero-width spaces and joiners,
 * the BOM, invisible tags, the soft hyphen), lone surrogates, line and paragraph
 * separators, unassigned code points and noncharacters (\p{Cn}), and every
 * default-ignorable code point: the Hangul fillers (U+115F, U+1160, U+3164,
 * U+FFA0), the combining grapheme joiner, variation selectors, the Khmer
 * inherent vowels. Such characters make a name read otherwise than it is
 * ("Acme\u202egnp.exe" shows as "Acmeexe.png"), hide text in it, or make two
 * names look alike. Emoji written with a variation selector (U+FE0F, as in
 * "❤️") or joined by U+200D (as in "👩‍💻") are refused with them: both are
 * default-ignorable; the same emoji without them (❤, 👩 💻) are accepted.
 */
const NOT_PLAIN = /[\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/** Blank "fillers" that are not default-ignorable: symbols that show nothing. */
const BLANK_FILLERS = /[\u2800]/u;

/** A combining mark with no base: at the start, or after a space or separator. */
const MARK_WITHOUT_BASE = /(?:^|[^\p{L}\p{N}\p{P}\p{S}\p{M}])\p{M}/u;

/** Something that shows: a letter, digit, punctuation or symbol (blank fillers are refused above). */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;

/**
 * A name or reason a caller gives (organization names, admin reasons, key and
 * device names): trimmed, 1 to `maxLength` UTF-16 units (so never more
 * characters than a column of that length holds), plain text with at least one
 * visible character.
 */
export function parsePlainText(value: unknown, field: string, maxLength: number): string {
  // Checked before trimming: trim() drops a BOM, and a refusal should not depend on where the character is.
  const plain =
    typeof value === 'string' &&
    !NOT_PLAIN.test(value) &&
    !BLANK_FILLERS.test(value) &&
    !MARK_WITHOUT_BASE.test(value.trim()) &&
    VISIBLE.test(value);
  const text = plain ? value.trim() : '';
  if (text.length === 0 || text.length > maxLength) {
    throw badInput(
      `${field} must be 1 to ${maxLength} characters of plain text, without control, bidi or invisible characters.`,
      field,
    );
  }
  return text;
}
