import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { WebConfig } from './config';

/**
 * Who signs the tokens the web server sends to the service, and the key that
 * checks the service's login assertions.
 *
 * This is the development identity: the service's own development keys
 * (`development-keys.json` under its DATA_DIR, made by the service at its first
 * start; AUTH_JWT_SECRET / ASSERTION_JWT_SECRET win when set), a demo password,
 * and HS256 tokens. In production an identity provider issues the user's tokens
 * and the login service holds the assertion secret: replace this module, the
 * rest of the server does not change. `main.ts` refuses to start it in production.
 */
export interface Identity {
  /** The password step. Development: any user id, the password `demo`. */
  checkPassword(userId: string, password: string): boolean;
  /** A short-lived token for the signed-in user; auth_time is when the user signed in. */
  userToken(userId: string, signedInAt: Date): Promise<{ token: string; expiresAt: number }>;
  /** A token for the web server's own role as a service (`twofactor:login`, `twofactor:directory`). */
  serviceToken(subject: string, scope: string): Promise<string>;
  /** Checks a login assertion's signature, algorithm, issuer, audience and expiry. */
  verifyAssertion(assertion: string): Promise<JWTPayload>;
}

export const DEMO_PASSWORD = 'demo';
const USER_TOKEN_SECONDS = 10 * 60;
const SERVICE_TOKEN_SECONDS = 5 * 60;

interface DevelopmentKeys {
  authJwtSecret: string;
  assertionJwtSecret: string;
}

/** Waits (up to `timeoutMs`) for the service to have written its development keys. */
async function readDevelopmentKeys(dataDir: string, timeoutMs: number): Promise<DevelopmentKeys> {
  const file = join(dataDir, 'development-keys.json');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const keys = JSON.parse(await readFile(file, 'utf8')) as Partial<DevelopmentKeys>;
      if (typeof keys.authJwtSecret === 'string' && typeof keys.assertionJwtSecret === 'string') {
        return { authJwtSecret: keys.authJwtSecret, assertionJwtSecret: keys.assertionJwtSecret };
      }
    } catch {
      // not written yet, or being written
    }
    if (Date.now() > deadline) {
      throw new Error(`no development keys at ${file}: start the service first (it writes them), or set DATA_DIR`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function developmentIdentity(
  config: WebConfig,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<Identity> {
  if (config.production) {
    throw new Error('the development identity (demo password, development keys) is refused in production');
  }
  const needKeys = !env.AUTH_JWT_SECRET || !env.ASSERTION_JWT_SECRET;
  const keys = needKeys ? await readDevelopmentKeys(config.serviceDataDir, timeoutMs) : undefined;
  const authKey = new TextEncoder().encode(env.AUTH_JWT_SECRET || keys!.authJwtSecret);
  const assertionKey = new TextEncoder().encode(env.ASSERTION_JWT_SECRET || keys!.assertionJwtSecret);

  const sign = (subject: string, claims: Record<string, unknown>, seconds: number) => {
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(now + seconds);
    if (config.authIssuer) jwt = jwt.setIssuer(config.authIssuer);
    if (config.authAudience) jwt = jwt.setAudience(config.authAudience);
    return jwt.sign(authKey);
  };

  return {
    checkPassword: (_userId, password) => password === DEMO_PASSWORD,
    async userToken(userId, signedInAt) {
      const expiresAt = Date.now() + USER_TOKEN_SECONDS * 1000;
      const token = await sign(userId, { auth_time: Math.floor(signedInAt.getTime() / 1000) }, USER_TOKEN_SECONDS);
      return { token, expiresAt };
    },
    serviceToken: (subject, scope) =>
      sign(subject, { scope, auth_time: Math.floor(Date.now() / 1000) }, SERVICE_TOKEN_SECONDS),
    async verifyAssertion(assertion) {
      const { payload } = await jwtVerify(assertion, assertionKey, {
        algorithms: ['HS256'],
        issuer: config.assertionIssuer,
        audience: config.assertionAudience,
        requiredClaims: ['jti', 'sub', 'exp', 'iat'],
      });
      return payload;
    },
  };
}
