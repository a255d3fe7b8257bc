import type { EntityManager } from 'typeorm';
import type { AuditAction, AuditEntry } from '../audit/audit-log';
import type { SignInStrength } from '../callers/amr';
import type { Actor } from '../callers/caller';
import type { Statement } from '../infra/db/database';
import type { StatusPart } from '../users/status-part';
import type { EnrolledMethod, TwoFactorMethod } from '../users/two-factor-method';
import type { LockedUser } from '../users/user.repository';

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

/** How many of an answer's parts were given: one is an answer, none or both are not. */
export const partsOf = (answer: Answer): number =>
  Number(answer.code !== undefined) + Number(answer.webAuthn !== undefined);

/** The refusals of an answer that is not one, worded once for every place that checks it. */
export const ANSWER_REFUSALS = {
  notOne: 'Give exactly one answer: a code, or a WebAuthn response (webAuthn).',
  missing: 'code or webAuthn is required: a current TOTP or SMS code, a recovery code, or a security key.',
} as const;

/** A right answer, spent: how it was given, for the login assertion's `amr` (RFC 8176). */
export interface Accepted {
  readonly amr: readonly string[];
  /** How strong the answer was, when the factor knows better than its amr (a device-bound key: `phrh`). */
  readonly acr?: SignInStrength;
}

/** One factor's check of one answer, inside the answer's transaction, under the user's row lock. */
export interface FactorCheck {
  manager: EntityManager;
  user: LockedUser;
  answer: Answer;
  purpose: AnswerPurpose;
  actor: Actor;
  /** The rows of the factor's `reads`, in order, read in the same round trip as the lock. */
  rows: Record<string, unknown>[][];
  now: Date;
}

/**
 * One second factor, as the shared answer-checking path sees it
 * (docs/adr/0001-one-answer-checking-path.md). The registry
 * (factors/registry.ts) lists them in the order an answer is tried. An answer is
 * planned, then sent (ADR 0013): what the factor reads goes with the user's row
 * lock in one round trip; what a right answer writes is queued to go with the COMMIT.
 */
export interface SecondFactor {
  readonly method: TwoFactorMethod;
  /** Refused while two-factor is locked (100 failures in a row); a factor that is not unlocks it. */
  readonly refusedWhenLocked: boolean;
  /**
   * An answer a phishing proxy cannot relay (bound to the origin the browser
   * saw): the only kind that gives a step-up while an organization requires it.
   */
  readonly phishingResistant?: boolean;
  /** Whether the answer has this factor's shape (no I/O). */
  accepts(answer: Answer): boolean;
  /** Refuses (BAD_USER_INPUT) an answer of this factor's kind that is malformed, before any attempt is counted. */
  validate?(answer: Answer): void;
  /** What checking this answer reads (plain SQL, no locks of its own): sent with the user's row lock. */
  reads?(userId: string, answer: Answer, purpose: AnswerPurpose): Statement[];
  /**
   * Checks the answer; a right one is spent (never usable again) and its use
   * recorded, by statements queued in the check's transaction (Database.queue).
   * Null for a wrong one (what it queued commits with the failure's record).
   */
  verify(check: FactorCheck): Promise<Accepted | null>;
  /** Present for a factor the user sets up and removes. */
  readonly enrollment?: Enrollment;
  /** The factor's part of every status read (its columns in the one query). */
  readonly statusPart?: StatusPart;
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
  /**
   * The user's credentials of this factor, each with its CAEP 1.0
   * `credential_type` (Shared Signals' credential-change), read while they
   * exist. Absent for a factor CAEP has no type for (recovery codes).
   */
  credentials?(manager: EntityManager, userId: string): Promise<CaepCredential[]>;
}

/** A credential as Shared Signals names it: its id (the factor's own) and its CAEP type. */
export interface CaepCredential {
  id: string;
  type: CaepCredentialType;
}

/** The CAEP 1.0 credential types a second factor may be (CAEP 1.0, credential-change). */
export type CaepCredentialType = 'app' | 'phone-sms' | 'fido2-platform' | 'fido2-roaming';

/** TOTP and SMS codes: exactly 6 ASCII digits (surrounding white space is trimmed before). */
export const isSixDigits = (code: string) => /^[0-9]{6}$/.test(code);
