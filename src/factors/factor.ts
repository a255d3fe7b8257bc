import type { EntityManager } from 'typeorm';
import type { Actor, AuditAction, AuditEntry } from '../audit/audit-log';
import type { EnrolledMethod, TwoFactorMethod } from './method';

/**
 * What an answer is for. An answer is only ever checked for one purpose: an SMS
 * code sent for a login never completes a step-up, and the other way round.
 */
export type AnswerPurpose =
  | { kind: 'setup'; userId: string }
  | { kind: 'step-up'; userId: string }
  | { kind: 'login'; userId: string; challengeId: string };

/**
 * What the user gave, as the API names it: a `code` (TOTP, SMS, recovery) or a
 * `webAuthn` response. Each factor reads the part it understands.
 */
export interface Answer {
  readonly code?: string;
  readonly webAuthn?: unknown;
}

/** A right answer, spent: how it was given, for the login assertion's `amr` (RFC 8176). */
export interface Accepted {
  readonly amr: readonly string[];
}

/**
 * One second factor, as the shared answer-checking path sees it
 * (docs/adr/0001-one-answer-checking-path.md). The registry
 * (factors/registry.ts) lists them in the order an answer is tried.
 */
export interface SecondFactor {
  readonly method: TwoFactorMethod;
  /** Refused while two-factor is locked (100 failures in a row); a factor that is not unlocks it. */
  readonly refusedWhenLocked: boolean;
  /** Whether the answer has this factor's shape (no I/O). */
  accepts(answer: Answer): boolean;
  /** Refuses (BAD_USER_INPUT) an answer of this factor's kind that is malformed, before any attempt is counted. */
  validate?(answer: Answer): void;
  /** Checks and spends the answer inside the caller's transaction: right, and never usable again; or null. */
  verify(manager: EntityManager, userId: string, answer: Answer, purpose: AnswerPurpose): Promise<Accepted | null>;
  /** What a success with this factor records besides spending the answer (last use, an audit event). */
  recordUse(manager: EntityManager, actor: Actor, userId: string, now: Date): Promise<void>;
  /** Present for a factor the user sets up and removes. */
  readonly enrollment?: Enrollment;
}

/** The part of a factor that the user sets up and removes. */
export interface Enrollment {
  readonly method: EnrolledMethod;
  /** How messages name it: "TOTP authenticator", "phone number". */
  readonly noun: string;
  readonly enabledAction: AuditAction;
  readonly removedAction: AuditAction;
  /** How many of this factor the user has confirmed (a phone number: 0 or 1). */
  count(manager: EntityManager, userId: string): Promise<number>;
  /** Removes all of this factor of the user; true when there was any. */
  removeAll(manager: EntityManager, userId: string): Promise<boolean>;
  /** Removes one of several (a security key by its id); true when it was there. */
  removeOne?(manager: EntityManager, userId: string, id: string): Promise<boolean>;
  /**
   * Told, inside the change's transaction, that the user's factors of this kind
   * changed (added or removed). `enforce`: the organizations' rules apply (not to
   * an admin's reset); a refusal throws and rolls the change back.
   */
  afterChange?(manager: EntityManager, userId: string, options: { enforce: boolean }): Promise<void>;
  /** What the security event of an addition or removal may show of it (a masked phone number), read while it exists. */
  eventDetails?(manager: EntityManager, userId: string): Promise<AuditEntry['details']>;
}

/** TOTP and SMS codes: exactly 6 ASCII digits (surrounding white space is trimmed before). */
export const isSixDigits = (code: string) => /^[0-9]{6}$/.test(code);
