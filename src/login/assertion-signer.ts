import { SignJWT } from 'jose';
import type { Config } from '../config/config';
import { TwoFactorMethod } from '../factors/method';
import { LIMITS } from '../limits';


const AMR: Record<TwoFactorMethod, string> = {
  [TwoFactorMethod.TOTP]: 'otp',
  [TwoFactorMethod.SMS]: 'sms',
  [TwoFactorMethod.RECOVERY_CODE]: 'recovery',
};

/** The signed statement the login service receives: this user passed the second factor of this challenge. */
export class AssertionSigner {
  private readonly key: Uint8Array;

  constructor(private readonly options: Config['assertion']) {
    this.key = new TextEncoder().encode(options.secret);
  }

  sign(userId: string, challengeId: string, method: TwoFactorMethod, now: Date): Promise<string> {
    const issuedAt = Math.floor(now.getTime() / 1000);
    return new SignJWT({ amr: [AMR[method]] })
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
