import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from 'jose';

/**
 * The transmitter's ES256 key (SSF_SIGNING_KEY): signs every Security Event
 * Token (RFC 8417, `typ` secevent+jwt) with its `kid` (the RFC 7638 thumbprint
 * of its public key), which the JWKS publishes.
 */
export class SetSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly kid: string,
    private readonly publicJwk: JWK,
  ) {}

  static async fromPem(pem: string): Promise<SetSigner> {
    const privateKey = createPrivateKey(pem);
    const jwk = await exportJWK(createPublicKey(privateKey));
    const kid = await calculateJwkThumbprint(jwk);
    return new SetSigner(privateKey, kid, { ...jwk, kid, alg: 'ES256', use: 'sig' });
  }

  /** GET /ssf/jwks.json. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  sign(claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: this.kid, typ: 'secevent+jwt' })
      .sign(this.privateKey);
  }
}
