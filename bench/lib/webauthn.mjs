// The WebAuthn login scenario: `startLoginChallenge { webAuthnOptions }` (the
// login service) then `verifyLoginChallenge(webAuthn:)` with an assertion signed
// by the user's security key. The keys are P-256 pairs made here; their public
// keys are seeded as COSE keys, as the service stores a registered credential, and
// each assertion is built as an authenticator would: the RP id hash, flags (user
// present and verified), a growing signature counter, and an ECDSA signature over
// the authenticator data and the hash of the client data.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { graphqlRequest } from './load.mjs';
import { CHALLENGE_MAX_AGE_MS } from './login.mjs';

export const WEBAUTHN_USERS = 5_000;
export const WEBAUTHN_RP_ID = 'bench.example';
export const WEBAUTHN_ORIGIN = 'https://bench.example';

const START = 'mutation Start($userId: ID!) { startLoginChallenge(userId: $userId) { id userId webAuthnOptions } }';
const VERIFY =
  'mutation Verify($challengeId: ID!, $webAuthn: JSON) { verifyLoginChallenge(challengeId: $challengeId, webAuthn: $webAuthn) { userId method assertion } }';

/** An EC2 P-256 public key as a COSE_Key map {1: 2, 3: -7, -1: 1, -2: x, -3: y}, CBOR-encoded. */
function coseKey(publicKey) {
  const { x, y } = publicKey.export({ format: 'jwk' });
  const bytes = (b64) => Buffer.from(b64, 'base64url');
  return Buffer.concat([
    Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
    bytes(x),
    Buffer.from([0x22, 0x58, 0x20]),
    bytes(y),
  ]);
}

/**
 * Seeds `count` users with one security key each (and two-factor on) straight
 * into the database, as a confirmed registration leaves them.
 */
export async function seedWebAuthnUsers({ databaseUrl, count, connect }) {
  const users = Array.from({ length: count }, (_, index) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      userId: `bwa-u${String(index).padStart(6, '0')}`,
      credentialId: randomBytes(32).toString('base64url'),
      privateKey,
      publicKey: coseKey(publicKey).toString('base64url'),
      counter: 0,
    };
  });
  const connection = await connect(databaseUrl);
  try {
    const now = new Date();
    for (let offset = 0; offset < users.length; offset += 2_000) {
      const batch = users.slice(offset, offset + 2_000);
      await connection.query(
        'INSERT INTO users (id, two_factor_enabled, enabled_at, failed_attempts_in_row, phishing_resistant, created_at) VALUES ?',
        [batch.map((user) => [user.userId, 1, now, 0, 1, now])],
      );
      await connection.query(
        'INSERT INTO webauthn_credentials (id, user_id, public_key, sign_count, transports, backup_eligible, backed_up, name, created_at) VALUES ?',
        [batch.map((user) => [user.credentialId, user.userId, user.publicKey, 0, 'usb', 0, 0, 'Bench key', now])],
      );
    }
  } finally {
    await connection.end();
  }
  return users;
}

/** Request factories for the two steps, sharing the challenges collected by the first. */
export class WebAuthnLoginWorkload {
  constructor(users, loginToken, { maxChallengeAgeMs = CHALLENGE_MAX_AGE_MS } = {}) {
    this.users = users;
    this.maxChallengeAgeMs = maxChallengeAgeMs;
    this.skippedStale = 0;
    this.byId = new Map(users.map((user) => [user.userId, user]));
    this.loginToken = loginToken;
    this.nextUser = 0;
    this.challenges = [];
    this.nextChallenge = 0;
    this.exhausted = 0;
    this.nextIp = 0;
    this.rpIdHash = createHash('sha256').update(WEBAUTHN_RP_ID).digest();
  }

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
            if (challenge?.webAuthnOptions?.challenge) {
              this.challenges.push({
                id: challenge.id,
                userId: challenge.userId,
                challenge: challenge.webAuthnOptions.challenge,
                at: Date.now(),
              });
            }
          } catch {
            // counted as an error by the measurement
          }
        },
      }),
    ];
  }

  /** verifyLoginChallenge with a fresh assertion for each collected challenge (not near its expiry); a bogus one when they run out. */
  verifyRequests() {
    return [
      graphqlRequest({
        next: () => {
          const headers = { 'x-forwarded-for': this.clientIp() };
          const oldest = Date.now() - this.maxChallengeAgeMs;
          let challenge = this.challenges[this.nextChallenge++];
          while (challenge && challenge.at < oldest) {
            this.skippedStale += 1;
            challenge = this.challenges[this.nextChallenge++];
          }
          if (!challenge) {
            this.exhausted += 1;
            return {
              body: JSON.stringify({ query: VERIFY, variables: { challengeId: 'bench-pool-exhausted', webAuthn: {} } }),
              headers,
            };
          }
          const webAuthn = this.assertion(this.byId.get(challenge.userId), challenge.challenge);
          return {
            body: JSON.stringify({ query: VERIFY, variables: { challengeId: challenge.id, webAuthn } }),
            headers,
          };
        },
      }),
    ];
  }

  /** An AuthenticationResponseJSON, as navigator.credentials.get() gives it. */
  assertion(user, challenge) {
    user.counter += 1;
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge, origin: WEBAUTHN_ORIGIN, crossOrigin: false }),
    );
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(user.counter);
    const authenticatorData = Buffer.concat([this.rpIdHash, Buffer.from([0x05]), counter]);
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, createHash('sha256').update(clientData).digest()]),
      user.privateKey,
    );
    return {
      id: user.credentialId,
      rawId: user.credentialId,
      type: 'public-key',
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
      },
    };
  }

  /** Loopback-range addresses in X-Forwarded-For: a header only; no traffic goes anywhere. */
  clientIp() {
    const n = this.nextIp++ % 16_000_000;
    return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255 || 1}`;
  }
}
