import { SignJWT } from 'jose';

/** Signs callers' tokens with the development HS256 key: for `npm run token`, the start banner and tests. */
export async function signDevelopmentToken(
  secret: string,
  subject: string,
  scopes: string[] = [],
  options: { expiresIn?: string; authTime?: Date; issuer?: string; audience?: string } = {},
): Promise<string> {
  const now = new Date();
  let jwt = new SignJWT({ scope: scopes.join(' '), auth_time: Math.floor((options.authTime ?? now).getTime() / 1000) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
