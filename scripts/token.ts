import { signDevelopmentToken } from '../src/callers/token-signer';
import { loadConfig } from '../src/config/config';

/**
 * `npm run token -- <userId> [scope ...]`: a caller token signed with the
 * configured AUTH_JWT_SECRET, or the development key under ./data.
 */
async function main(): Promise<void> {
  const [userId, ...scopes] = process.argv.slice(2);
  if (!userId) {
    console.error('usage: npm run token -- <userId> [twofactor:read|twofactor:login|twofactor:directory|twofactor:admin ...]');
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.auth.jwtSecret) {
    console.error('npm run token signs with AUTH_JWT_SECRET (HS256); with AUTH_JWKS_URL, tokens come from your identity provider.');
    process.exit(2);
  }
  console.log(await signDevelopmentToken(config.auth.jwtSecret, userId, scopes, { issuer: config.auth.issuer, audience: config.auth.audience }));
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
