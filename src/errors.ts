/**
 * The contract's error codes. Services throw AppError; the GraphQL layer turns it
 * into a GraphQL error with `extensions.code` in one place (graphql/format-error.ts).
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_REQUEST'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'INVALID_CODE'
  | 'RATE_LIMITED'
  | 'TWO_FACTOR_LOCKED'
  | 'CHALLENGE_NOT_FOUND'
  | 'NOT_ENROLLED'
  | 'REAUTHENTICATION_REQUIRED'
  | 'PHISHING_RESISTANT_ANSWER_REQUIRED'
  | 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION'
  | 'OWNERS_WITHOUT_TWO_FACTOR'
  | 'SMS_DELIVERY_FAILED'
  | 'SMS_NOT_ALLOWED'
  | 'SERVICE_UNAVAILABLE';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badInput = (message: string, field?: string) =>
  new AppError('BAD_USER_INPUT', message, field ? { field } : {});

export const rateLimited = (retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', `Too many attempts; try again in ${retryAfterSeconds} seconds.`, {
    retryAfterSeconds,
  });

export const serviceUnavailable = (what: string) =>
  new AppError('SERVICE_UNAVAILABLE', `The ${what} cannot be reached; try again shortly.`);

export const challengeNotFound = () =>
  new AppError(
    'CHALLENGE_NOT_FOUND',
    'The login challenge is unknown, expired, spent or exhausted: start the login again.',
  );
