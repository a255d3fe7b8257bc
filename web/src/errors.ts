import type { Problem } from './api';

export interface Explanation {
  /** What happened, in words. */
  title: string;
  /** What to do next. */
  next: string;
  /** Seconds to wait before trying again (RATE_LIMITED), shown as a countdown. */
  retryAfterSeconds?: number;
}

const list = (value: unknown) => (Array.isArray(value) ? value.map(String).join(', ') : '');

/**
 * What a code field takes, so a wrong code is explained with only what works
 * there: the user's own methods (sign-in, step-up), or the one being set up.
 */
export type CodeSource = 'TOTP' | 'SMS' | 'RECOVERY_CODE' | 'NEW_TOTP' | 'NEW_SMS';

const CODE_SOURCE_WORDS: Record<CodeSource, string> = {
  TOTP: 'the code your authenticator app shows now',
  SMS: 'the latest code we sent by SMS',
  RECOVERY_CODE: 'an unused recovery code',
  NEW_TOTP: 'the code the app you are setting up shows now',
  NEW_SMS: 'the code in the latest text message to this number',
};

/** "a", "a or b", "a, b or c". */
export const either = (words: string[]) =>
  words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : (words[0] ?? '');

/** The code sources of a step-up or sign-in for a user with these methods (recovery codes come with two-factor). */
export const codeSourcesOf = (methods: readonly string[], recoveryCodes = true): CodeSource[] => [
  ...(methods.includes('TOTP') ? (['TOTP'] as const) : []),
  ...(methods.includes('SMS') ? (['SMS'] as const) : []),
  ...(recoveryCodes ? (['RECOVERY_CODE'] as const) : []),
];

/**
 * Every refusal a person can meet, in words, with what to do next. Codes are
 * the service's `extensions.code` (docs/api.md, "Error codes") and the web
 * server's own; messages from the service are used where they say more.
 */
export function explain(problem: Problem, accepts: readonly CodeSource[] = []): Explanation {
  const { code, message, extensions } = problem;
  switch (code) {
    case 'INVALID_CODE':
      return {
        title: 'That code did not work.',
        next:
          accepts.length > 0
            ? `Type ${either(accepts.map((source) => CODE_SOURCE_WORDS[source]))}, and try again. Each code works once.`
            : 'Check the code and try again. Each code works once.',
      };
    case 'RATE_LIMITED': {
      const seconds = Number(extensions.retryAfterSeconds ?? 0) || undefined;
      return {
        title: 'Too many attempts.',
        next: seconds ? 'Wait until the countdown ends, then try again.' : 'Wait a little, then try again.',
        retryAfterSeconds: seconds,
      };
    }
    case 'TWO_FACTOR_LOCKED':
      return {
        title: 'Authenticator and SMS codes are locked after too many failed attempts.',
        next: 'Use a recovery code (it unlocks codes again) or a security key. Without either, ask support to reset your two-factor authentication.',
      };
    case 'CHALLENGE_NOT_FOUND':
      return {
        title: 'This sign-in has expired or was already used.',
        next: 'Start again with your user id and password.',
      };
    case 'SMS_DELIVERY_FAILED':
      return {
        title: 'The text message could not be sent.',
        next: 'Nothing was counted against you. Try again in a moment, or use another method.',
      };
    case 'SERVICE_UNAVAILABLE':
      return {
        title: 'The two-factor service is not available right now.',
        next: 'Nothing was changed. Try again in a minute.',
      };
    case 'NETWORK':
      return {
        title: 'The web server did not answer.',
        next: 'Check your connection, then try again.',
      };
    case 'REAUTHENTICATION_REQUIRED': {
      const minutes = Math.max(1, Math.round(Number(extensions.maxAgeSeconds ?? 900) / 60));
      return {
        title: 'For your security, sign in again before you set up your first method.',
        next: `Sign out, sign in again, and set it up within ${minutes} minute${minutes === 1 ? '' : 's'} of signing in.`,
      };
    }
    case 'OWNERS_WITHOUT_TWO_FACTOR':
      return {
        title: `Two-factor can't be required yet: ${list(extensions.userIds) || 'some owners'} ${
          Array.isArray(extensions.userIds) && extensions.userIds.length === 1 ? 'does' : 'do'
        } not have ${/phishing|WebAuthn|security key/i.test(message) ? 'a security key or passkey' : 'two-factor authentication'} yet.`,
        next: 'Every owner turns it on first (Account settings, Two-factor authentication); then try again.',
      };
    case 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION':
      return {
        title: `Your organization${
          Array.isArray(extensions.organizationIds) && extensions.organizationIds.length > 1 ? 's' : ''
        } (${list(extensions.organizationIds)}) require${
          Array.isArray(extensions.organizationIds) && extensions.organizationIds.length > 1 ? '' : 's'
        } two-factor, so your last method cannot be removed.`,
        next: 'Add another method first, then remove this one.',
      };
    case 'NOT_FOUND':
      return { title: message, next: 'Start the setup again.' };
    case 'NOT_ENROLLED':
      return { title: message, next: 'Set that method up first, or use another one.' };
    case 'UNAUTHENTICATED':
      return { title: 'You are signed out.', next: 'Sign in again.' };
    case 'FORBIDDEN':
      return { title: message, next: 'Ask an owner of the organization if you need this.' };
    case 'INVALID_PASSWORD':
      return { title: message, next: 'Check your user id and password, then try again.' };
    case 'ASSERTION_REFUSED':
      return { title: message, next: 'Start again with your user id and password.' };
    case 'BAD_USER_INPUT':
      return { title: message, next: 'Check what you entered and try again.' };
    case 'WEBAUTHN_CANCELLED':
      return {
        title: 'The security key request was cancelled or timed out.',
        next: 'Try again, and touch your security key (or confirm on your device) when asked.',
      };
    case 'WEBAUTHN_ALREADY_REGISTERED':
      return { title: 'This security key is already registered.', next: 'Use another key, or keep this one as it is.' };
    case 'WEBAUTHN_UNSUPPORTED':
      return { title: 'This browser cannot use security keys here.', next: 'Use another method, or another browser.' };
    default:
      return { title: message || 'Something went wrong.', next: 'Try again. If it keeps happening, contact support.' };
  }
}

/** A browser WebAuthn failure (from @simplewebauthn/browser) as a problem the pages explain. */
export function webAuthnProblem(error: unknown): Problem {
  const name = (error as { name?: string })?.name ?? '';
  const cause = (error as { cause?: { name?: string } })?.cause?.name ?? '';
  const code = (error as { code?: string })?.code ?? '';
  if (
    code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' ||
    name === 'InvalidStateError' ||
    cause === 'InvalidStateError'
  ) {
    return { code: 'WEBAUTHN_ALREADY_REGISTERED', message: String(error), extensions: {} };
  }
  if (name === 'NotAllowedError' || cause === 'NotAllowedError' || name === 'AbortError') {
    return { code: 'WEBAUTHN_CANCELLED', message: String(error), extensions: {} };
  }
  if (/not supported|WebAuthn is not/i.test(String(error))) {
    return { code: 'WEBAUTHN_UNSUPPORTED', message: String(error), extensions: {} };
  }
  return { code: 'WEBAUTHN_CANCELLED', message: String(error), extensions: {} };
}
