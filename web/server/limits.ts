/**
 * Every number of the web server, in one place. The session numbers are
 * defaults: SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS and SESSION_MAX_COUNT
 * change them (config.ts), within the bounds given here.
 */
export const WEB_LIMITS = {
  /** A session ends after this long without a request (SESSION_IDLE_SECONDS)... */
  sessionIdleSeconds: { default: 30 * 60, min: 60, max: 86_400 },
  /** ...and this long after its sign-in step, however busy (SESSION_MAX_SECONDS). */
  sessionMaxSeconds: { default: 12 * 3600, min: 300, max: 30 * 86_400 },
  /** Sessions kept in memory at most; past it the least recently used one goes (SESSION_MAX_COUNT). */
  sessionMaxCount: { default: 10_000, min: 10, max: 1_000_000 },
  /** How often expired sessions are swept from memory. */
  sessionSweepSeconds: 60,
  /** Bodies of POST /graphql and /auth/verify (the service's own limit: larger ones are refused here already). */
  bodyBytes: 100_000,
  /** Bodies of the other /auth/* steps (a user id and a password). */
  authBodyBytes: 10_000,
  /** How long a call to the service may take. */
  serviceTimeoutMs: 15_000,
} as const;
