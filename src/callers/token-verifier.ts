import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../errors';
import { parseId } from '../ids';
import { type Clock, systemClock } from '../infra/clock';
import { type HmacJwtKey, hmacJwtKey } from '../infra/crypto/hmac-jwt-key';
import { LIMITS } from '../limits';
import type { Caller } from './caller';
import { VerifiedTokenCache } from './verified-token-cache';

export interface TokenVerifierOptions {
  jwtSecret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** How far ahead a token's exp may lie (AUTH_MAX_TOKEN_LIFETIME, seconds). */
  maxTokenLifetimeSeconds?: number;
}

/** How far ahead of our clock a token's iat, nbf or auth_time may be (the issuer's clock may run ahead). */
/** The NumericDates a JavaScript Date can hold (±8.64e15 ms): past them a claim is no time at all. */
const MAX_NUMERIC_DATE = 8.64e12;
const TIME_CLAIMS = ['exp', 'iat', 'nbf', 'auth_time'] as const;

/**
 * Verifies callers' bearer tokens: HS256 with a shared secret, or RS256/ES256
 * against a JWKS. Algorithms are pinned, so `alg: none` and algorithm confusion
 * fail like any bad signature. A token must expire (`exp`), within
 * AUTH_MAX_TOKEN_LIFETIME, and may not claim a time to come: a far-future
 * `auth_time` would pass the re-sign-in window forever. Its time claims must be
 * dates: an `auth_time` of -1e308 made an invalid Date whose age (NaN) passed
 * every "too old" comparison.
 */
export class TokenVerifier {
  private readonly key: HmacJwtKey | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly verified = new VerifiedTokenCache();

  constructor(
    private readonly options: TokenVerifierOptions,
    private readonly clock: Clock = systemClock,
  ) {
    if (options.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3_000, cooldownDuration: 30_000 });
      this.algorithms = ['RS256', 'ES256'];
    } else if (options.jwtSecret) {
      this.key = hmacJwtKey(options.jwtSecret);
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
      ({ payload } = await jwtVerify(match[1], this.key as HmacJwtKey, {
        algorithms: this.algorithms,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: 5,
      }));
    } catch {
      throw unauthenticated();
    }
    if (!timeClaimsAreDates(payload) || this.claimsTimeToCome(payload) || this.expiresTooLate(payload)) {
      throw unauthenticated();
    }
    const subject = parseId(payload.sub, 'sub', () => unauthenticated());
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    const authTime = typeof payload.auth_time === 'number' ? new Date(payload.auth_time * 1000) : undefined;
    const caller = { subject, scopes: new Set(scope.split(' ').filter(Boolean)), authTime };
    this.verified.set(match[1], caller, payload.exp! * 1000);
    return caller;
  }

  /**
   * True when iat, nbf or auth_time lies beyond now plus the skew. Tokens are
   * signed on the wall clock while auth_time is compared with the service's clock
   * (which tests move): in time to come only when ahead of both; in production
   * they are one clock.
   */
  private claimsTimeToCome(payload: JWTPayload): boolean {
    const now = Math.max(Date.now(), this.clock.now().getTime()) / 1000;
    return [payload.iat, payload.nbf, payload.auth_time].some(
      (claim) => typeof claim === 'number' && claim > now + LIMITS.tokenClockSkewSeconds,
    );
  }

  /** True when exp lies further ahead than AUTH_MAX_TOKEN_LIFETIME (judged as claimsTimeToCome judges). */
  private expiresTooLate(payload: JWTPayload): boolean {
    const max = this.options.maxTokenLifetimeSeconds ?? LIMITS.maxTokenLifetimeSeconds;
    const now = Math.max(Date.now(), this.clock.now().getTime()) / 1000;
    return payload.exp! > now + max;
  }
}

/** exp, iat, nbf and auth_time, where present, are finite numbers a Date can hold. */
function timeClaimsAreDates(payload: JWTPayload): boolean {
  return TIME_CLAIMS.every((name) => {
    const claim = payload[name];
    return claim === undefined || (typeof claim === 'number' && Math.abs(claim) <= MAX_NUMERIC_DATE);
  });
}

const unauthenticated = () => new AppError('UNAUTHENTICATED', 'The bearer token is not valid.');
