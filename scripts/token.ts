import type { Scope } from '../src/callers/caller';
import { signDevelopmentToken } from '../src/callers/token-signer';
import { loadConfig } from '../src/config/config';
import { loadDotEnv } from '../src/config/dotenv';

// Every scope the service knows (the compiler checks this against Scope).
const SCOPES = Object.keys({
  'twofactor:read': true,
  'twofactor:login': true,
  'twofactor:directory': true,
  'twofactor:admin': true,
} satisfies Record<Scope, true>);

const USAGE = `usage: npm run -s token -- <userId> [scope ...] [--signed-in-ago <seconds>]

Prints a caller token (and nothing else, so TOKEN=$(npm run -s token -- alice) works),
signed with AUTH_JWT_SECRET or the development key under DATA_DIR (./data).
The token is valid 12 hours and its auth_time is now: a fresh sign-in, so
enrolling a first factor is not refused with REAUTHENTICATION_REQUIRED
(--signed-in-ago 1200 makes it a sign-in 20 minutes ago, which is).

scopes: ${SCOPES.join(' ')}

  npm run -s token -- alice                          a signed-in user
  npm run -s token -- login-service twofactor:login  the login service
  npm run -s token -- ops twofactor:read twofactor:admin
`;

// `npm run -s token | head -c 20`: a reader that goes away is no error; stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** `npm run -s token -- <userId> [scope ...]`: the token alone on stdout; everything else on stderr. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  const ago = args.indexOf('--signed-in-ago');
  let signedInAgo = 0;
  if (ago !== -1) {
    const [, seconds] = args.splice(ago, 2);
    if (!/^\d{1,9}$/.test(seconds ?? '')) {
      process.stderr.write(`--signed-in-ago takes a number of seconds\n\n${USAGE}`);
      process.exit(2);
    }
    signedInAgo = Number(seconds);
  }
  const [userId, ...scopes] = args;
  // `token -- twofactor:read` would mint a token for a user named "twofactor:read".
  if (userId?.startsWith('twofactor:')) {
    process.stderr.write(
      `${userId} is a scope, not a user id: give the user id first, e.g.\n` +
        `  npm run -s token -- <userId> ${args.join(' ')}\n\n${USAGE}`,
    );
    process.exit(2);
  }
  if (!userId || userId.startsWith('-') || !/^[\x21-\x7e]{1,128}$/.test(userId)) {
    process.stderr.write(
      userId
        ? `not a user id: ${JSON.stringify(userId)} (1 to 128 printable ASCII characters, no spaces)\n\n${USAGE}`
        : USAGE,
    );
    process.exit(2);
  }
  const unknown = scopes.filter((scope) => !SCOPES.includes(scope));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown scope${unknown.length > 1 ? 's' : ''}: ${unknown.join(' ')}\nvalid scopes: ${SCOPES.join(' ')}\n`,
    );
    process.exit(2);
  }
  loadDotEnv();
  const config = loadConfig();
  if (!config.auth.jwtSecret) {
    process.stderr.write(
      'npm run token signs with AUTH_JWT_SECRET (HS256); with AUTH_JWKS_URL, tokens come from your identity provider.\n',
    );
    process.exit(2);
  }
  const token = await signDevelopmentToken(config.auth.jwtSecret, userId, scopes, {
    authTime: new Date(Date.now() - signedInAgo * 1000),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
