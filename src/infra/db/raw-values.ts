/**
 * Raw query results differ by driver (MySQL: 0/1 and Date; SQLite: 0/1 and UTC
 * text); these read them the same way. Entity reads need none of this.
 */
export const rawBoolean = (value: unknown): boolean => value === true || Number(value) === 1;

export function rawDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  // SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.SSS', without a zone.
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

export const rawNumber = (value: unknown): number => Number(value ?? 0);

/** A time as a plain-SQL parameter: UTC 'YYYY-MM-DD HH:MM:SS.SSS', as both MySQL (session time zone Z) and SQLite store it. */
export const sqlTime = (date: Date): string => date.toISOString().replace('T', ' ').replace('Z', '');
