import type { EntityManager } from 'typeorm';
import type { TwoFactorMethod } from '../users/user.types';

/**
 * What a code is for. A code is only ever checked for one purpose: an SMS code
 * sent for a login never completes a step-up, and the other way round.
 */
export type CodePurpose =
  | { kind: 'setup'; userId: string }
  | { kind: 'step-up'; userId: string }
  | { kind: 'login'; userId: string; challengeId: string };

/**
 * One second factor's code check, behind the shared interface every factor
 * implements (see factors/registry.ts for the list). A verifier checks a code
 * and spends it in the same step (a TOTP step, an SMS code, a recovery code):
 * true means it was right and can never be used again.
 */
export interface CodeVerifier {
  readonly method: TwoFactorMethod;
  /** Whether the code has this factor's shape (no I/O). */
  accepts(code: string): boolean;
  /** Checks and spends the code, inside the caller's transaction where the factor lives in the database. */
  verify(manager: EntityManager, userId: string, code: string, purpose: CodePurpose): Promise<boolean>;
}

/** TOTP and SMS codes: exactly 6 ASCII digits (surrounding white space is trimmed before). */
export const isSixDigits = (code: string) => /^[0-9]{6}$/.test(code);
