/**
 * Every security number of the service, in one place. Where a setting may
 * change one, its environment variable is named beside it (read and validated
 * in config/config.ts, which takes its default from here). Messages take their
 * numbers from here too, so a message never disagrees with the rule.
 */
/** Webhook endpoints in all, and attempts in flight per endpoint and instance (LIMITS says why). */
const WEBHOOK_MAX_ENDPOINTS = 20;
const WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT = 4;

export const LIMITS = {
  // Attempts: counted before an answer is checked, shared by every instance.
  /** Failures per user within the window; past it every attempt is RATE_LIMITED. */
  userFailuresPerWindow: 10,
  userFailureWindowSeconds: 15 * 60,
  /** Failures in a row (kept in the database) after which TOTP and SMS codes are TWO_FACTOR_LOCKED. */
  failuresInRowToLock: 100,
  /** Default of IP_ATTEMPTS_PER_MINUTE: attempts per client IP in each window of this many seconds. */
  ipAttemptsPerMinute: 100,
  ipAttemptWindowSeconds: 60,
  /** A longer `code` is refused unread (malformed). */
  maxCodeLength: 64,

  // Callers' tokens.
  /** How far in the future a token's iat, nbf or auth_time may lie (clocks differ a little). */
  tokenClockSkewSeconds: 60,
  /** Verified tokens remembered at once per instance, each at most this long (or to its expiry). */
  verifiedTokenCacheEntries: 10_000,
  verifiedTokenCacheSeconds: 60,

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
  /** Default of AUTH_MAX_TOKEN_LIFETIME: a caller's token whose exp lies further ahead is refused. */
  maxTokenLifetimeSeconds: 24 * 3600,
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
  /** A user's SMS language (BCP 47): longer tags are refused (RFC 5646 asks room for 35 characters). */
  smsLocaleMaxLength: 35,
  /**
   * The product name (TOTP_ISSUER) and WEBOTP_DOMAIN an SMS text has room for: at these lengths every
   * GSM-7 text still fits one segment (test/factors/sms/sms-segments.test.ts). A longer TOTP_ISSUER is
   * warned about at start; a longer WEBOTP_DOMAIN is refused.
   */
  smsProductNameMaxLength: 30,
  webOtpDomainMaxLength: 40,

  // WebAuthn (security keys and passkeys).
  /** Registration and authentication challenges live this long. */
  webAuthnCeremonySeconds: 5 * 60,
  webAuthnCredentialsPerUser: 10,
  /** The largest WebAuthn response accepted (a real one is under 2 KiB). */
  webAuthnJsonMaxBytes: 16 * 1024,
  /** An RS256 credential's key: at least this many bits, and exactly this public exponent. */
  webAuthnRsaMinBits: 2048,
  webAuthnRsaExponent: 65537,

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
  // Webhooks: security events delivered from the outbox (contract: README.md, "Webhooks").
  /** An attempt without a complete answer within this fails (and is retried). */
  webhookTimeoutSeconds: 10,
  /** Delays before the 1st, 2nd, ... retry, each jittered; the last one repeats. */
  webhookRetryDelaysSeconds: [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600],
  /** Each delay is multiplied by a random factor within 1 ± this. */
  webhookRetryJitter: 0.2,
  /** A delivery whose next attempt would start later than this after its first is FAILED. */
  webhookGiveUpAfterSeconds: 3 * 24 * 3600,
  /** A claimed delivery whose instance reports nothing within this is claimed again (it died). */
  webhookLeaseSeconds: 30,
  /** After a rotation, the old secret signs beside the new one this long. */
  webhookSecretOverlapSeconds: 24 * 3600,
  /** Default of WEBHOOK_RETENTION_DAYS: delivered and failed outbox rows are kept this long. */
  webhookRetentionDays: 30,
  /** Rows one DELETE of the purge removes, and how often each instance purges. */
  webhookPurgeBatch: 1_000,
  webhookPurgeIntervalSeconds: 3600,
  /** Default of WEBHOOK_POLL_INTERVAL_MS: how often an idle worker looks for due deliveries. */
  webhookPollIntervalMs: 1_000,
  /**
   * Attempts in flight per endpoint and instance: a slow or hanging receiver holds
   * at most these slots, its own, and delays no other endpoint's deliveries.
   */
  webhookMaxInFlightPerEndpoint: WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
  /**
   * Deliveries of an endpoint claimed beyond those in flight, waiting for a slot:
   * at least this many (an endpoint whose pace is not known yet, or a slow one:
   * each waits for one attempt at most, 10 s, well inside its lease), and up to
   * webhookMaxClaimedAheadPerEndpoint for a fast one, as many as its slots start
   * within the lease less twice the time-out at its pace. An attempt that ends
   * starts the next at once, and the round that refills serves many.
   */
  webhookClaimedAheadPerEndpoint: 4,
  webhookMaxClaimedAheadPerEndpoint: 96,
  /** Events one round takes from the outbox and fans out to the endpoints. */
  webhookFanOutBatch: 100,
  /**
   * An attempt's outcome is recorded by the next round, with the others', within
   * this (or the poll interval, if shorter): well inside the lease, so a
   * recorded outcome is never late.
   */
  webhookRecordWithinMs: 1_000,
  /** Attempts in flight per instance: every endpoint's own slots, so none waits for another's (and memory is bounded). */
  webhookMaxInFlight: WEBHOOK_MAX_ENDPOINTS * WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
  /** Endpoints in all, counted under a lock row: each round fans an event out to every enabled one that takes its type. */
  webhookMaxEndpoints: WEBHOOK_MAX_ENDPOINTS,
  /**
   * How long an instance writes events of the types its worker last saw an
   * enabled endpoint take without asking the database in the INSERT (its own
   * endpoint changes clear it at once); a stale answer costs a row the fan-out
   * drops, never an event (docs/adr/0019-outbox-one-row-per-event.md).
   */
  webhookSubscribersCacheMs: 5_000,
  webhookUrlMaxLength: 2_048,

  // Which security keys count: the FIDO Metadata Service (src/authenticators, ADR 0016).
  /** Default of FIDO_MDS_MAX_AGE_DAYS: a blob whose nextUpdate passed longer ago than this is refused. */
  metadataMaxAgeDays: 60,
  /** How often each instance compares the stored blob's version with its own (a new one is used within this). */
  metadataRefreshSeconds: 30,
  /** The largest blob file read (FIDO's is about 5 MB). */
  metadataBlobMaxBytes: 64 * 1024 * 1024,
  /** Characters of authenticatorModels' `search`. */
  maxModelSearchLength: 100,

  // Organizations and lists.
  maxGracePeriodDays: 90,
  /** An exemption from an organization's requirement ends at most this many days ahead. */
  maxExemptionDays: 90,
  /** organization.grace_period_ending is sent this many days before a grace period ends (each once; skipped when longer than the grace period). */
  graceReminderLeadDays: [7, 1],
  /** How often each instance looks for exemptions that ran out and reminders that are due (their events come within this). */
  enforcementJobIntervalSeconds: 20,
  /** Exemptions ended, or organizations reminded, per transaction of that job. */
  enforcementJobBatch: 100,
  /** `first` of a list: 1 to this. */
  maxPageSize: 100,
  defaultPageSize: 50,
  /** GET /audit/ocsf's `limit`: 1 to this, and its default (events in one page of the SIEM feed). */
  ocsfMaxPageSize: 1_000,
  ocsfDefaultPageSize: 100,
  /** Shared Signals streams (src/signals/ssf): at most this many, as webhook endpoints. */
  ssfMaxStreams: 20,
  /** Subjects added to one stream. */
  ssfMaxSubjectsPerStream: 100_000,
  /** RFC 8936 `maxEvents`: at most this, and the default. */
  ssfMaxPollEvents: 1_000,
  ssfDefaultPollEvents: 100,
  /** A long poll (returnImmediately false) waits at most this long for an event. */
  ssfLongPollSeconds: 10,
  /** A stream's description (UTF-16 units). */
  ssfDescriptionMaxLength: 255,
  /** Pushed SETs claimed by one round of the push worker. */
  ssfPushBatch: 100,
  /** A request body of stream management or poll: this much at most. */
  ssfBodyMaxBytes: 64 * 1024,
  /** Ids one `users` query may ask for. */
  maxIdsPerQuery: 100,
  /** AAGUIDs in one organization's authenticator allow-list (the column holds 100). */
  maxAllowedAaguids: 100,
  /** Characters of an admin's reason. */
  maxReasonLength: 500,
  /** organizationAccess's sessionAmr: values, and characters of each. */
  maxSessionAmrValues: 10,
  maxSessionAmrValueLength: 32,

  // Encryption keys (docs/adr/0022-ciphertexts-bound-and-rotated.md).
  /** How often each instance says which key it seals with and, when every live one seals with the same, re-encrypts (one at a time). */
  keyRotationIntervalSeconds: 60,
  /** Values one batch of re-encryption reads, then writes in one compare-and-set UPDATE. */
  keyRotationBatch: 500,
  /** An instance not heard of for this long no longer counts (it stopped or died). */
  keyInstanceTtlSeconds: 180,
  /** encrypted_values at a scrape is at most this old (counting reads every value's index entry). */
  encryptedValuesCountMaxAgeSeconds: 60,
  /** The same row refused for the same reason is logged and audited once in this long per instance. */
  ciphertextRefusalAuditIntervalSeconds: 3600,

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
  /**
   * Introspection fields a document may select (aliases and fragments counted):
   * graphql-js's full introspection query selects `__schema` once; each answers
   * the whole schema, so aliased copies multiplied the answer (3.8 MB for 17 KB).
   */
  maxSchemaSelections: 1,
  maxTypeSelections: 10,
  /** Parser tokens: bounds the work of parsing a huge document. */
  maxTokens: 5_000,
  /** GRAPHQL_EXECUTOR=jit: documents (compiled, or counted until they are) kept per instance, least recently used dropped first. */
  compiledDocuments: 200,
  /** The request of a document that compiles it: a text sent once (or a new one every time) costs no compilation. */
  compileAfterRequests: 2,
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
