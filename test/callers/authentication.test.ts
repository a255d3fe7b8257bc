import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { SignJWT, generateKeyPair, exportJWK } from 'jose';
import { AUTH_SECRET, startTestApp, type TestApp, errorCode } from '../support/test-app';

const ME = '{ me { id } }';
const secret = new TextEncoder().encode(AUTH_SECRET);
/** A NumericDate `seconds` from now (wall clock). */
const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

async function sign(claims: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT = (jwt) => jwt): Promise<string> {
  return build(
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').setIssuedAt().setExpirationTime('5m'),
  ).sign(secret);
}

/**
 * An HS256 token over payload text as written, so that numbers JSON holds but
 * no JWT library writes (1e400 reads as Infinity) reach the service.
 */
function signRaw(payload: string): string {
  const encode = (text: string) => Buffer.from(text).toString('base64url');
  const signed = `${encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${encode(payload)}`;
  return `${signed}.${createHmac('sha256', AUTH_SECRET).update(signed).digest('base64url')}`;
}

/** A good token's claims with some replaced by raw JSON number text. */
function rawClaims(replace: Record<string, string>): string {
  const claims: Record<string, string> = {
    sub: '"alice"',
    iss: '"https://id.example"',
    aud: '"twofactor"',
    scope: '""',
    iat: String(inSeconds(0)),
    exp: String(inSeconds(300)),
    auth_time: String(inSeconds(0)),
    ...replace,
  };
  return `{${Object.entries(claims)
    .map(([name, value]) => `"${name}":${value}`)
    .join(',')}}`;
}

describe("callers' identity", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'twofactor' } });
  });
  afterAll(() => t?.close());

  const good = (build: (jwt: SignJWT) => SignJWT = (jwt) => jwt) =>
    sign({ scope: '' }, (jwt) => build(jwt.setIssuer('https://id.example').setAudience('twofactor')));

  it("acts for the token's subject", async () => {
    const result = await t.gql(ME, {}, await good());
    expect(result.data.me.id).toBe('alice');
  });

  it('refuses a request without a token', async () => {
    expect(errorCode(await t.gql(ME))).toBe('UNAUTHENTICATED');
  });

  it.each([
    ['expired', () => good((jwt) => jwt.setExpirationTime(Math.floor(Date.now() / 1000) - 60))],
    ['not yet valid', () => good((jwt) => jwt.setNotBefore(Math.floor(Date.now() / 1000) + 600))],
    ['of another issuer', () => sign({}, (jwt) => jwt.setIssuer('https://evil.example').setAudience('twofactor'))],
    ['for another audience', () => sign({}, (jwt) => jwt.setIssuer('https://id.example').setAudience('other'))],
    ['wrongly signed', async () => (await good()).slice(0, -4) + 'AAAA'],
    [
      'signed with another secret',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setIssuer('https://id.example')
          .setAudience('twofactor')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('x'.repeat(40))),
    ],
    [
      'alg none',
      async () => {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const payload = Buffer.from(
          JSON.stringify({
            sub: 'alice',
            iss: 'https://id.example',
            aud: 'twofactor',
            exp: Math.floor(Date.now() / 1000) + 300,
          }),
        ).toString('base64url');
        return `${header}.${payload}.`;
      },
    ],
    [
      'without a subject',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('https://id.example')
          .setAudience('twofactor')
          .setExpirationTime('5m')
          .sign(secret),
    ],
    ['with a subject that is no valid id', () => good((jwt) => jwt.setSubject('has space'))],
    ['that is not a JWT', async () => 'garbage'],
    [
      'without exp (it would never expire)',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setIssuer('https://id.example')
          .setAudience('twofactor')
          .setIssuedAt()
          .sign(secret),
    ],
    ['issued a year ahead', () => good((jwt) => jwt.setIssuedAt(inSeconds(365 * 24 * 3600)))],
    ['issued more than 60 s ahead', () => good((jwt) => jwt.setIssuedAt(inSeconds(90)))],
    ['valid only from more than 60 s ahead', () => good((jwt) => jwt.setNotBefore(inSeconds(90)))],
    [
      'signed in ten years ahead (auth_time)',
      () =>
        sign({ auth_time: inSeconds(10 * 365 * 24 * 3600) }, (jwt) =>
          jwt.setIssuer('https://id.example').setAudience('twofactor'),
        ),
    ],
    [
      'signed in more than 60 s ahead (auth_time)',
      () => sign({ auth_time: inSeconds(90) }, (jwt) => jwt.setIssuer('https://id.example').setAudience('twofactor')),
    ],
    [
      'that expires more than AUTH_MAX_TOKEN_LIFETIME (24 hours) ahead',
      () => good((jwt) => jwt.setExpirationTime(inSeconds(24 * 3600 + 120))),
    ],
    ['that expires at 1e308', async () => signRaw(rawClaims({ exp: '1e308' }))],
    ['that expires at Infinity (1e400)', async () => signRaw(rawClaims({ exp: '1e400' }))],
    ['issued at Infinity', async () => signRaw(rawClaims({ iat: '1e400' }))],
    ['issued at -Infinity', async () => signRaw(rawClaims({ iat: '-1e400' }))],
    ['valid from -Infinity (nbf)', async () => signRaw(rawClaims({ nbf: '-1e400' }))],
    ['signed in at -1e308 (auth_time, no date)', async () => signRaw(rawClaims({ auth_time: '-1e308' }))],
    ['signed in at -Infinity (auth_time)', async () => signRaw(rawClaims({ auth_time: '-1e400' }))],
    ['signed in before any date (auth_time -9e12)', async () => signRaw(rawClaims({ auth_time: '-9e12' }))],
  ])('refuses a token %s with UNAUTHENTICATED, on every operation', async (_name, make) => {
    const token = await make();
    const result = await t.gql(ME, {}, token);
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
    expect(result.status).toBe(401);
    const open = await t.gql(
      'mutation { verifyLoginChallenge(challengeId: "x", code: "123456") { userId } }',
      {},
      token,
    );
    if (open.status !== 400) expect(errorCode(open)).toBe('UNAUTHENTICATED');
  });

  it('accepts a token that expires within AUTH_MAX_TOKEN_LIFETIME, and one written by hand', async () => {
    const day = await good((jwt) => jwt.setExpirationTime(inSeconds(24 * 3600 - 60)));
    expect((await t.gql(ME, {}, day)).data.me.id).toBe('alice');
    expect((await t.gql(ME, {}, signRaw(rawClaims({})))).data.me.id).toBe('alice');
  });

  it('never lets an auth_time that is no date pass as a recent sign-in', async () => {
    // An invalid Date made the age NaN, and NaN > REAUTH_MAX_AGE is false.
    const result = await t.gql(
      'mutation { startTotpSetup { secret } }',
      {},
      signRaw(rawClaims({ auth_time: '-1e308' })),
    );
    expect(result.status).toBe(401);
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
  });

  it('allows up to 60 s of clock skew on iat and auth_time', async () => {
    const token = await sign({ scope: '', auth_time: inSeconds(50) }, (jwt) =>
      jwt.setIssuer('https://id.example').setAudience('twofactor').setIssuedAt(inSeconds(50)),
    );
    expect((await t.gql(ME, {}, token)).data.me.id).toBe('alice');
  });

  it("judges auth_time by the service's clock (a test moves it)", async () => {
    t.clock.advance(24 * 3600 * 1000);
    const authTime = Math.floor(t.clock.now().getTime() / 1000);
    const signedIn = await sign({ auth_time: authTime }, (jwt) =>
      jwt.setIssuer('https://id.example').setAudience('twofactor'),
    );
    expect((await t.gql(ME, {}, signedIn)).data.me.id).toBe('alice');
    const ahead = await sign({ auth_time: authTime + 90 }, (jwt) =>
      jwt.setIssuer('https://id.example').setAudience('twofactor'),
    );
    expect(errorCode(await t.gql(ME, {}, ahead))).toBe('UNAUTHENTICATED');
  });

  it('refuses the right token with the wrong rights as FORBIDDEN', async () => {
    const result = await t.gql('{ users(ids: ["bob"]) { id } }', {}, await good());
    expect(errorCode(result)).toBe('FORBIDDEN');
  });
});

describe('AUTH_MAX_TOKEN_LIFETIME', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { AUTH_MAX_TOKEN_LIFETIME: '3600' } });
  });
  afterAll(() => t?.close());

  it('bounds how far ahead a token may expire', async () => {
    const token = (seconds: number) => sign({}, (jwt) => jwt.setExpirationTime(inSeconds(seconds)));
    expect((await t.gql(ME, {}, await token(3_000))).data.me.id).toBe('alice');
    const far = await t.gql(ME, {}, await token(7_200));
    expect(far.status).toBe(401);
    expect(errorCode(far)).toBe('UNAUTHENTICATED');
  });
});

describe("callers' identity with a JWKS (RS256, ES256)", () => {
  let t: TestApp;
  let jwks: Server;
  const keys: Record<string, CryptoKey | any> = {};

  beforeAll(async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    keys.rsa = rsa.privateKey;
    keys.ec = ec.privateKey;
    const body = JSON.stringify({
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' },
      ],
    });
    jwks = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/json' }).end(body),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const port = (jwks.address() as { port: number }).port;
    t = await startTestApp({ env: { AUTH_JWT_SECRET: '', AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` } });
  });
  afterAll(async () => {
    await t?.close();
    jwks.close();
  });

  it.each([
    ['RS256', 'rsa'],
    ['ES256', 'ec'],
  ])('accepts %s tokens from the key set', async (alg, kid) => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg, kid })
      .setSubject('carol')
      .setExpirationTime('5m')
      .sign(keys[kid]);
    expect((await t.gql(ME, {}, token)).data.me.id).toBe('carol');
  });

  it('refuses an HS256 token signed with the public key (algorithm confusion)', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('carol')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(40)));
    expect(errorCode(await t.gql(ME, {}, token))).toBe('UNAUTHENTICATED');
  });
});
