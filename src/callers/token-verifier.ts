import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../errors';
import { parseId } from '../ids';
import type { Caller } from './caller';
import { VerifiedTokenCache } from './verified-token-cache';

export interface TokenVerifierOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

/**
 * Verifies callers' bearer tokens: HS256 with a shared secret, or RS256/ES256
 * against a JWKS. Algorithms are pinned, so `alg: none` and algorithm confusion
 * fail like any bad signature.
 */
export class TokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly verified = new VerifiedTokenCache();

  constructor(private readonly options: TokenVerifierOptions) {
    if (options.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3_000, cooldownDuration: 30_000 });
      this.algorithms = ['RS256', 'ES256'];
    } else if (options.jwtSecret) {
      this.key = new TextEncoder().encode(options.jwtSecret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('TokenVerifier needs a JWT secret or a JWKS URL');
    }
  }

  /** The caller of an `Authorization` header; null without one; UNAUTHENTICATED for a bad one. */
  async verifyHeader(header: string | undefined): Promise<Caller | null> {
    if (header === undefined || header === '') return null;
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header.trim());
    if (!match) throw unauthenticated();
    const cached = this.verified.get(match[1]);
    if (cached) return cached;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1], this.key as Uint8Array, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub'],
        clockTolerance: 5,
      }));
    } catch {
      throw unauthenticated();
    }
    const subject = parseId(payload.sub, 'sub', () => unauthenticated());
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    const authTime = typeof payload.auth_time === 'number' ? new Date(payload.auth_time * 1000) : undefined;
    const caller = { subject, scopes: new Set(scope.split(' ').filter(Boolean)), authTime };
    this.verified.set(match[1], caller, typeof payload.exp === 'number' ? payload.exp * 1000 : undefined);
    return caller;
  }
}

const unauthenticated = () => new AppError('UNAUTHENTICATED', 'The bearer token is not valid.');
