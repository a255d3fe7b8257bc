import { resolve } from 'node:path';
import { WEB_LIMITS } from './limits';

/** The web server's settings, from the environment, checked once at start. */
export interface WebConfig {
  production: boolean;
  host: string;
  port: number;
  /** The origin browsers use (WebAuthn needs `http://localhost:<port>` in development, not 127.0.0.1). */
  publicOrigin: URL;
  /** Cookies carry Secure (and the __Host- prefix) whenever the public origin is https. */
  secureCookies: boolean;
  /** The two-factor service's GraphQL endpoint. */
  serviceUrl: string;
  /** The service's DATA_DIR: in development the tokens are signed with its development keys. */
  serviceDataDir: string;
  /** Where `vite build` put the pages. */
  staticDir: string;
  authIssuer?: string;
  authAudience?: string;
  assertionIssuer: string;
  assertionAudience: string;
  /** Seed the demo organization through the directory-sync API (development only). */
  seedDemo: boolean;
  /** Idle and absolute lifetimes of a browser session, and how many sessions are kept at most. */
  sessionIdleSeconds: number;
  sessionMaxSeconds: number;
  sessionMaxCount: number;
}

export class WebConfigError extends Error {}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new WebConfigError(`${name}: must be an integer from ${min} to ${max}`);
  }
  return number;
}

const setting = (name: string, env: NodeJS.ProcessEnv, limit: { default: number; min: number; max: number }) =>
  integer(name, env[name], limit.default, limit.min, limit.max);

export function loadWebConfig(env: NodeJS.ProcessEnv, webRoot: string): WebConfig {
  const production = env.NODE_ENV === 'production';
  const port = integer('WEB_PORT', env.WEB_PORT, 5173, 0, 65535);
  const host = env.WEB_HOST?.trim() || (production ? '0.0.0.0' : '127.0.0.1');
  let publicOrigin: URL;
  try {
    publicOrigin = new URL(env.PUBLIC_ORIGIN?.trim() || `http://localhost:${port}`);
  } catch {
    throw new WebConfigError('PUBLIC_ORIGIN: must be an origin, e.g. https://app.example.com');
  }
  if (publicOrigin.origin !== publicOrigin.href.replace(/\/$/, '')) {
    throw new WebConfigError('PUBLIC_ORIGIN: must be an origin only (scheme, host, port), without a path');
  }
  const local = publicOrigin.hostname === 'localhost';
  if (publicOrigin.protocol !== 'https:' && !local) {
    throw new WebConfigError('PUBLIC_ORIGIN: must be https outside localhost (cookies are Secure there)');
  }
  return {
    production,
    host,
    port,
    publicOrigin,
    secureCookies: publicOrigin.protocol === 'https:',
    serviceUrl: env.SERVICE_URL?.trim() || `http://127.0.0.1:${env.PORT?.trim() || 4000}/graphql`,
    serviceDataDir: resolve(env.DATA_DIR?.trim() || resolve(webRoot, '..', 'data')),
    staticDir: resolve(webRoot, 'dist'),
    authIssuer: env.AUTH_ISSUER?.trim() || undefined,
    authAudience: env.AUTH_AUDIENCE?.trim() || undefined,
    assertionIssuer: env.SERVICE_ISSUER?.trim() || 'twofactor',
    assertionAudience: env.ASSERTION_AUDIENCE?.trim() || 'login',
    seedDemo: !production && env.SEED_DEMO !== 'false',
    sessionIdleSeconds: setting('SESSION_IDLE_SECONDS', env, WEB_LIMITS.sessionIdleSeconds),
    sessionMaxSeconds: setting('SESSION_MAX_SECONDS', env, WEB_LIMITS.sessionMaxSeconds),
    sessionMaxCount: setting('SESSION_MAX_COUNT', env, WEB_LIMITS.sessionMaxCount),
  };
}
