import { SignJWT } from 'jose';
import { type SignInStrength, strengthOf } from '../callers/amr';
import type { Config } from '../config/config';
import { type HmacJwtKey, hmacJwtKey } from '../infra/crypto/hmac-jwt-key';
import { LIMITS } from '../limits';

/** The signed statement the login service receives: this user passed the second factor of this challenge. */
export class AssertionSigner {
  private readonly key: HmacJwtKey;

  constructor(private readonly options: Config['assertion']) {
    this.key = hmacJwtKey(options.secret);
  }

  /**
   * `amr`: how the second factor was given (RFC 8176), as the factor that
   * accepted it says; `acr`: how strong the sign-in was (`phrh`, `phr`, `mfa`).
   */
  sign(userId: string, challengeId: string, amr: readonly string[], now: Date, acr?: SignInStrength): Promise<string> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ amr: [...amr], acr: acr ?? strengthOf(amr) })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(userId)
      .setJti(challengeId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + LIMITS.assertionTtlSeconds)
      .sign(this.key);
  }
}
