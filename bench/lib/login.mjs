// The second-factor login scenario: `startLoginChallenge` (the login service,
// token with twofactor:login) then `verifyLoginChallenge` with a TOTP code (the
// web client, no token). Each step is measured on its own: a pass of starts
// collects challenge ids, a pass of verifications spends them.
//
// A TOTP code works once per user and time step (the service keeps the last
// step accepted), so a verification pass needs about as many users with TOTP as
// it verifies in 30 s: LOGIN_USERS of them.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { graphqlRequest } from './load.mjs';
import { currentStep, totpCode } from './totp.mjs';

export const LOGIN_USERS = 40_000;

const START = 'mutation Start($userId: ID!) { startLoginChallenge(userId: $userId) { id userId } }';
const VERIFY =
  'mutation Verify($challengeId: ID!, $code: String!) { verifyLoginChallenge(challengeId: $challengeId, code: $code) { userId method assertion } }';

/**
 * Seeds `count` users with a confirmed TOTP factor straight into the database,
 * stored as the service stores them: the base32 secret encrypted with the
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
        [batch.map((user) => [user.userId, box.encrypt(base32Encode(user.secret)), now, null])],
      );
    }
  } finally {
    await connection.end();
  }
  return users;
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
  constructor(users, loginToken) {
    this.users = users;
    this.secrets = new Map(users.map((user) => [user.userId, user.secret]));
    this.loginToken = loginToken;
    this.nextUser = 0;
    this.challenges = [];
    this.nextChallenge = 0;
    this.lastStep = new Map();
    this.nextIp = 0;
    this.exhausted = 0;
    this.skippedForReplay = 0;
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
            if (challenge?.id) this.challenges.push({ id: challenge.id, userId: challenge.userId });
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
   * proxy (TRUST_PROXY=1), as web clients come from many addresses. When the
   * challenges run out it sends a bogus one, which shows as errors.
   */
  verifyRequests() {
    return [
      graphqlRequest({
        next: () => {
          const headers = { 'x-forwarded-for': this.clientIp() };
          const step = currentStep();
          while (this.nextChallenge < this.challenges.length) {
            const challenge = this.challenges[this.nextChallenge++];
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
