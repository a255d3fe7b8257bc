import { badInput } from './errors';
import { LIMITS } from './limits';

/**
 * Opaque keyset cursors. Each names the list and filter it came from, so a
 * cursor used on another list or with another filter is refused, not misread.
 */
export function encodeCursor(list: string, position: string): string {
  return Buffer.from(JSON.stringify([list, position]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, list: string): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  try {
    if (cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('shape');
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && decoded[0] === list && typeof decoded[1] === 'string') {
      return decoded[1];
    }
  } catch {
    // falls through to the refusal below
  }
  throw badInput('after is not a cursor of this list and filter.', 'after');
}

/** `first`: 1 to LIMITS.maxPageSize. */
export function pageSize(first: number | null | undefined, fallback: number = LIMITS.defaultPageSize): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > LIMITS.maxPageSize) {
    throw badInput(`first must be from 1 to ${LIMITS.maxPageSize}.`, 'first');
  }
  return size;
}
