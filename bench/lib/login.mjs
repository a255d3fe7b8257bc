// The second-factor login scenario: `startLoginChallenge` (the login service,
// token with twofactor:login) then `verifyLoginChallenge` with a TOTP code (the
// web client, no token). Each step is measured on its own: a pass of starts
// collects challenge ids, a pass of verifications spends them. A third pass
// starts logins with a remembered browser's device token: one step, no code.
//
// A TOTP code works once per user and time step (the service keeps the last
// step accepted), so a verification pass needs about as many users with TOTP as
// it verifies in 30 s: LOGIN_USERS of them.
import { createSecretKey, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { graphqlRequest } from './load.mjs';
import { currentStep, totpCode } from './totp.mjs';

export const LOGIN_USERS = 40_000;
/** Of those, how many have a remembered browser (a trusted device) for the device scenario. */
export const TRUSTED_DEVICE_USERS = 10_000;
/**
 * Challenges older than this are not sent (counted as stale): the service keeps
 * them 5 minutes (LIMITS.challengeTtlSeconds), and a pass late in the schedule
 * must not spend expired ones. run.mjs passes the built service's own TTL.
 */
export const CHALLENGE_MAX_AGE_MS = (5 * 60 - 30) * 1000;

const START = 'mutation Start($userId: ID!) { startLoginChallenge(userId: $userId) { id userId } }';
const VERIFY =
  'mutation Verify($challengeId: ID!, $code: String!) { verifyLoginChallenge(challengeId: $challengeId, code: $code) { userId method assertion } }';
const START_WITH_DEVICE =
  'mutation StartWithDevice($userId: ID!, $deviceToken: String) { startLoginChallenge(userId: $userId, deviceToken: $deviceToken) { id userId assertion } }';

/**
 * Seeds `count` users with a confirmed TOTP factor straight into the database,
 * stored as the service stores them: the base32 secret sealed to its row with the
 * service's own SecretBox under the run's ENCRYPTION_KEY (loaded from the built
 * service, so the format cannot drift), two-factor on, no failures, no step used.
 *
 * @param {{ databaseUrl: string, encryptionKeyBase64: string, count: number, connect: (url: string) => Promise<any>, serviceRoot: string }} context
 * @returns {Promise<{ userId: string, secret: Buffer }[]>}
 */
export async function seedTotpUsers({ databaseUrl, encryptionKeyBase64, count, connect, serviceRoot }) {
  const require = createRequire(import.meta.url);
  const { SecretBox } = require(`${serviceRoot}/dist/src/infra/crypto/cipher.js`);
  const { base32Encode } = require(`${serviceRoot}/dist/src/infra/crypto/random.js`);
  const box = new SecretBox(Buffer.from(encryptionKeyBase64, 'base64'));
  // Bound to the user's row (totp-secret:<user id>); a build from before associated data has encrypt only.
  const seal = (secret, userId) =>
    box.seal ? box.seal(secret, { purpose: 'totp-secret', row: userId, userId }) : box.encrypt(secret);
  const users = Array.from({ length: count }, (_, index) => ({
    userId: `blogin-u${String(index).padStart(7, '0')}`,
    secret: randomBytes(20),
  }));
  const connection = await connect(databaseUrl);
  try {
    const now = new Date();
    for (let offset = 0; offset < users.length; offset += 5_000) {
      const batch = users.slice(offset, offset + 5_000);
      await connection.query(
        'INSERT INTO users (id, two_factor_enabled, enabled_at, failed_attempts_in_row, last_totp_step, created_at) VALUES ?',
        [batch.map((user) => [user.userId, 1, now, 0, null, now])],
      );
      await connection.query(
        'INSERT INTO totp_factors (user_id, secret_ciphertext, created_at, last_used_at) VALUES ?',
        [batch.map((user) => [user.userId, seal(base32Encode(user.secret), user.userId), now, null])],
      );
    }
  } finally {
    await connection.end();
  }
  return users;
}

/**
 * Gives each of `users` a remembered browser, straight into the database as the
 * service stores one: a 32-byte token (kept here, base64url) of which only the
 * keyed hash is stored, made with the built service's own SecretBox and hash
 * input (so the format cannot drift), valid 30 days.
 *
 * @param {{ databaseUrl: string, encryptionKeyBase64: string, users: { userId: string }[], connect: (url: string) => Promise<any>, serviceRoot: string }} context
 * @returns {Promise<{ userId: string, token: string }[]>}
 */
export async function seedTrustedDevices({ databaseUrl, encryptionKeyBase64, users, connect, serviceRoot }) {
  const require = createRequire(import.meta.url);
  const { SecretBox } = require(`${serviceRoot}/dist/src/infra/crypto/cipher.js`);
  const { deviceTokenHashInput } = require(`${serviceRoot}/dist/src/trusted-devices/trusted-device.service.js`);
  const box = new SecretBox(Buffer.from(encryptionKeyBase64, 'base64'));
  const devices = users.map((user) => ({ userId: user.userId, token: randomBytes(32).toString('base64url') }));
  const connection = await connect(databaseUrl);
  try {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + 30 * 24 * 60 * 60 * 1000);
    for (let offset = 0; offset < devices.length; offset += 5_000) {
      const batch = devices.slice(offset, offset + 5_000);
      await connection.query(
        'INSERT INTO trusted_devices (id, user_id, token_hash, name, created_at, expires_at, last_used_at) VALUES ?',
        [
          batch.map((device) => [
            randomBytes(18).toString('base64url'),
            device.userId,
            box.hash(deviceTokenHashInput(device.token)),
            'Bench browser',
            now,
            expiresAt,
            null,
          ]),
        ],
      );
    }
  } finally {
    await connection.end();
  }
  return devices;
}

/** Whether the running service takes a device token at startLoginChallenge (the trusted-devices part). */
export async function probeTrustedDevices(serviceUrl, loginToken) {
  const response = await fetch(`${serviceUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${loginToken}` },
    body: JSON.stringify({
      query: START_WITH_DEVICE,
      variables: { userId: 'bench-device-probe', deviceToken: 'bench-device-probe' },
    }),
    signal: AbortSignal.timeout(5_000),
  });
  const result = await response.json();
  return (result.errors ?? []).some((error) => error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')
    ? { implemented: false, detail: 'startLoginChallenge takes no deviceToken (GRAPHQL_VALIDATION_FAILED)' }
    : { implemented: true, detail: 'startLoginChallenge takes a deviceToken' };
}

/**
 * Whether the running service has the login mutations. Introspection is off in
 * production, so send each mutation and look for GRAPHQL_VALIDATION_FAILED.
 */
export async function probeLogin(serviceUrl, loginToken) {
  const post = async (body, headers = {}) => {
    const response = await fetch(`${serviceUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    return response.json();
  };
  const validationFailed = (result) =>
    (result.errors ?? []).some((error) => error.extensions?.code === 'GRAPHQL_VALIDATION_FAILED');
  const start = await post(
    { query: START, variables: { userId: 'bench-login-probe' } },
    { authorization: `Bearer ${loginToken}` },
  );
  if (validationFailed(start))
    return { implemented: false, detail: 'startLoginChallenge is not in the schema (GRAPHQL_VALIDATION_FAILED)' };
  const verify = await post({ query: VERIFY, variables: { challengeId: 'bench-login-probe', code: '000000' } });
  if (validationFailed(verify))
    return { implemented: false, detail: 'verifyLoginChallenge is not in the schema (GRAPHQL_VALIDATION_FAILED)' };
  return { implemented: true, detail: 'both mutations answer' };
}

/** Request factories for the two steps, sharing the challenges collected by the first. */
export class LoginWorkload {
  /** @param {{ userId: string, secret: Buffer }[]} users */
  constructor(users, loginToken, { maxChallengeAgeMs = CHALLENGE_MAX_AGE_MS } = {}) {
    this.users = users;
    this.maxChallengeAgeMs = maxChallengeAgeMs;
    this.skippedStale = 0;
    // As KeyObjects: with a Buffer key Node 24 spends ~13 µs a code, on the cores the service shares.
    this.secrets = new Map(users.map((user) => [user.userId, createSecretKey(user.secret)]));
    this.loginToken = loginToken;
    this.nextUser = 0;
    this.challenges = [];
    this.nextChallenge = 0;
    this.lastStep = new Map();
    this.nextIp = 0;
    this.exhausted = 0;
    this.skippedForReplay = 0;
    /** Users with a remembered browser (seedTrustedDevices), and what their starts got. */
    this.devices = [];
    this.nextDevice = 0;
    this.deviceAssertions = 0;
    this.deviceWithoutAssertion = 0;
  }

  /**
   * startLoginChallenge with the user's device token, for the users with a
   * remembered browser in turn: each answer should come back spent, with an
   * assertion (one that does not is counted, and shows in the notes).
   */
  deviceStartRequests() {
    return [
      graphqlRequest({
        headers: { authorization: `Bearer ${this.loginToken}` },
        next: () => {
          const device = this.devices[this.nextDevice++ % this.devices.length];
          return {
            body: JSON.stringify({
              query: START_WITH_DEVICE,
              variables: { userId: device.userId, deviceToken: device.token },
            }),
          };
        },
        onResponse: (status, body) => {
          if (status !== 200) return;
          try {
            if (JSON.parse(body).data?.startLoginChallenge?.assertion) this.deviceAssertions += 1;
            else this.deviceWithoutAssertion += 1;
          } catch {
            // counted as an error by the measurement
          }
        },
      }),
    ];
  }

  /** startLoginChallenge for the users in turn; each answer's challenge id is kept. */
  startRequests() {
    return [
      graphqlRequest({
        headers: { authorization: `Bearer ${this.loginToken}` },
        next: () => {
          const user = this.users[this.nextUser++ % this.users.length];
          return { body: JSON.stringify({ query: START, variables: { userId: user.userId } }) };
        },
        onResponse: (status, body) => {
          if (status !== 200) return;
          try {
            const challenge = JSON.parse(body).data?.startLoginChallenge;
            if (challenge?.id) this.challenges.push({ id: challenge.id, userId: challenge.userId, at: Date.now() });
          } catch {
            // counted as an error by the measurement
          }
        },
      }),
    ];
  }

  /**
   * verifyLoginChallenge for the collected challenges in order, each with a code
   * of a step its user has not used yet (the current one, else the next one,
   * which the service also accepts), from a client address of its own behind the
   * proxy (TRUST_PROXY=1), as web clients come from many addresses. Challenges
   * near their expiry are passed over. When the challenges run out it sends a
   * bogus one, which shows as errors.
   */
  verifyRequests() {
    return [
      graphqlRequest({
        next: () => {
          const headers = { 'x-forwarded-for': this.clientIp() };
          const step = currentStep();
          const oldest = Date.now() - this.maxChallengeAgeMs;
          while (this.nextChallenge < this.challenges.length) {
            const challenge = this.challenges[this.nextChallenge++];
            if (challenge.at < oldest) {
              this.skippedStale += 1;
              continue;
            }
            const last = this.lastStep.get(challenge.userId) ?? -Infinity;
            const use = last < step ? step : last < step + 1 ? step + 1 : null;
            if (use === null) {
              this.skippedForReplay += 1;
              continue;
            }
            this.lastStep.set(challenge.userId, use);
            const code = totpCode(this.secrets.get(challenge.userId), use);
            return { body: JSON.stringify({ query: VERIFY, variables: { challengeId: challenge.id, code } }), headers };
          }
          this.exhausted += 1;
          return {
            body: JSON.stringify({ query: VERIFY, variables: { challengeId: 'bench-pool-exhausted', code: '000000' } }),
            headers,
          };
        },
      }),
    ];
  }

  /** Loopback-range addresses in X-Forwarded-For: a header only; no traffic goes anywhere. */
  clientIp() {
    const n = this.nextIp++ % 16_000_000;
    return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255 || 1}`;
  }
}
