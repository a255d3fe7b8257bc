/**
 * Every security number of the service, in one place. Where a setting may
 * change one, its environment variable is named beside it (read and validated
 * in config/config.ts, which takes its default from here). Messages take their
 * numbers from here too, so a message never disagrees with the rule.
 */
export const LIMITS = {
  // Attempts: counted before an answer is checked, shared by every instance.
  /** Failures per user within the window; past it every attempt is RATE_LIMITED. */
  userFailuresPerWindow: 10,
  userFailureWindowSeconds: 15 * 60,
  /** Failures in a row (kept in the database) after which TOTP and SMS codes are TWO_FACTOR_LOCKED. */
  failuresInRowToLock: 100,
  /** Default of IP_ATTEMPTS_PER_MINUTE. */
  ipAttemptsPerMinute: 100,
  /** A longer `code` is refused unread (malformed). */
  maxCodeLength: 64,

  // Login challenges and assertions.
  challengeTtlSeconds: 5 * 60,
  challengeMaxAttempts: 5,
  /** The assertion's exp is at most this long after iat. */
  assertionTtlSeconds: 5 * 60,

  // Enrolling.
  /** A pending setup (TOTP secret, phone number) must be confirmed within this. */
  pendingSetupTtlSeconds: 10 * 60,
  /** Default of REAUTH_MAX_AGE: how recent a sign-in must be to enroll the first factor. */
  reauthMaxAgeSeconds: 900,
  /** Recovery codes issued at a time. */
  recoveryCodeCount: 10,

  // SMS: against pumping and guessing.
  smsCodeTtlSeconds: 10 * 60,
  smsCodeMaxChecks: 5,
  /** To one number for one purpose. */
  smsResendIntervalSeconds: 30,
  smsPerUserAndNumberPerHour: 5,
  smsPerUserAndNumberPerDay: 10,
  /** Default of SMS_DAILY_BUDGET: messages a day for the whole service. */
  smsDailyBudget: 10_000,

  // WebAuthn (security keys and passkeys).
  /** Registration and authentication challenges live this long. */
  webAuthnCeremonySeconds: 5 * 60,
  webAuthnCredentialsPerUser: 10,
  /** The largest WebAuthn response accepted (a real one is under 2 KiB). */
  webAuthnJsonMaxBytes: 16 * 1024,

  // Trusted devices ("remember this browser").
  /** Default of TRUSTED_DEVICE_DAYS: a device token's fixed lifetime (0 turns the feature off). */
  trustedDeviceDays: 30,
  /** The longest TRUSTED_DEVICE_DAYS may set. */
  maxTrustedDeviceDays: 365,
  /** Per user; a new one past this makes the oldest go. */
  trustedDevicesPerUser: 50,
  /** Characters of a device's name. */
  maxDeviceNameLength: 64,
  /** Expired rows deleted at a time (after each new device); bounds the work a login does for others. */
  trustedDevicePurgeBatch: 100,

  // Organizations and lists.
  maxGracePeriodDays: 90,
  /** `first` of a list: 1 to this. */
  maxPageSize: 100,
  defaultPageSize: 50,
  /** Ids one `users` query may ask for. */
  maxIdsPerQuery: 100,
  /** Characters of an admin's reason. */
  maxReasonLength: 500,

  // Background work.
  /** Rows one statement of a background purge removes (memberships of a deleted organization, old audit events). */
  purgeBatchSize: 2_000,
  /** How often each instance looks for purging to do. */
  backgroundJobIntervalSeconds: 60,
  /** Default of AUDIT_RETENTION_DAYS: audit events are kept this long (0: for ever). */
  auditRetentionDays: 400,

  // GraphQL documents: past any of these a document is refused before anything runs.
  maxDepth: 10,
  maxAliases: 15,
  maxRootFields: 10,
  maxCost: 5_000,
  /** Fields after expanding fragments: bounds the cost walk too. */
  maxExpandedFields: 2_000,
  /** Parser tokens: bounds the work of parsing a huge document. */
  maxTokens: 5_000,
  /** Default of BODY_LIMIT_BYTES. */
  bodyLimitBytes: 100_000,
} as const;

/** "5 minutes", "30 seconds": for messages. */
export function describeSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour');
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute');
  return plural(seconds, 'second');
}

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;
