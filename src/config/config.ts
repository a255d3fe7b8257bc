import { createPrivateKey } from 'node:crypto';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import { LIMITS } from '../limits';
import { loadOrCreateDevelopmentKeys, loadOrCreateSsfSigningKey } from './development-keys';

/** The one typed configuration, read and validated once at start. */
export interface Config {
  production: boolean;
  http: {
    port: number;
    host: string;
    trustProxy: number;
    corsOrigins: string[];
    bodyLimitBytes: number;
    /** When set, /metrics is served on this port (same HOST) instead of the API's. */
    metricsPort?: number;
  };
  database: { kind: 'mysql'; url: string } | { kind: 'sqlite'; file: string };
  migrationsRun: boolean;
  store:
    | { kind: 'redis'; url: string }
    | { kind: 'redis-cluster'; nodes: { host: string; port: number }[] }
    | { kind: 'memory' };
  sms: {
    provider: 'sns' | 'log';
    region: string;
    endpoint?: string;
    senderId?: string;
    allowedCountries: string[] | null;
    dailyBudget: number;
    /** Of dailyBudget, what sends to numbers not yet confirmed may use: setups never starve logins. */
    setupDailyBudget: number;
    /** SMS a UTC day per destination country; `otherwise` for each country not listed (null: none). Null: no caps. */
    countryDailyCaps: CountryDailyCaps | null;
    /** Ends every SMS with the WebOTP line `@<domain> #<code>` when set. */
    webOtpDomain: string | null;
  };
  auth: {
    jwtSecret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    reauthMaxAgeSeconds: number;
    /** Seconds ahead a caller's token may expire (exp); further is UNAUTHENTICATED. */
    maxTokenLifetimeSeconds: number;
  };
  assertion: { secret: string; audience: string; issuer: string };
  /**
   * ENCRYPTION_KEYS, the current (sealing) key first; or ENCRYPTION_KEY (id `0`)
   * and ENCRYPTION_KEYS_RETIRED (`r1`, `r2`, ...) as they were given before ids.
   */
  encryption: { keys: { id: string; key: Buffer }[] };
  introspection: boolean;
  /** Who runs operations: graphql-jit (queries, compiled; graphql-js for the rest) or graphql-js alone. */
  graphql: { executor: 'jit' | 'graphql-js'; compiledDocuments: number; compileAfterRequests: number };
  /** The issuer shown in authenticator apps (otpauth URIs). */
  totpIssuer: string;
  /** Security keys and passkeys: null when neither WEBAUTHN_RP_ID nor WEBAUTHN_ORIGINS is set (outside development). */
  webAuthn: { rpId: string; rpName: string; origins: string[] } | null;
  /** Days audit events are kept; 0: for ever. */
  auditRetentionDays: number;
  /** "Remember this browser": a device token's lifetime in days; 0 turns the feature off. */
  trustedDevices: { days: number };
  /** The FIDO Metadata Service: which authenticator models exist and which are compromised (src/authenticators). */
  metadataService: {
    /** FIDO_MDS_BLOB_FILE: verified at start (a start is refused when it does not verify or is stale). */
    blobFile?: string;
    /** FIDO_MDS_ROOT_CERT: a PEM file of the roots the blob must chain to; unset, the built-in GlobalSign Root CA R3. */
    rootCertFile?: string;
    /** FIDO_MDS_CRLS: revocation lists (PEM or DER files) for the certificates of the blob's chain. */
    crlFiles: string[];
    maxAgeDays: number;
  };
  /** Security events as signed webhooks (src/webhooks). */
  webhooks: {
    /** http and internal addresses allowed (internal receivers, tests); else https to public addresses only. */
    allowPrivateNetworks: boolean;
    retentionDays: number;
    pollIntervalMs: number;
  };
  /**
   * The Shared Signals transmitter (src/signals/ssf): its issuer (the base of every
   * URL it publishes) and its ES256 signing key (PEM). Null in production without
   * SSF_ISSUER: SSF is off and its paths answer 404.
   */
  ssf: { issuer: string; signingKeyPem: string } | null;
  limits: {
    userFailuresPerWindow: number;
    userFailureWindowSeconds: number;
    ipAttemptsPerMinute: number;
  };
  dataDir: string;
  logLevel: string;
  /** Settings that production accepts but would rather have; logged as warnings at start. */
  warnings: string[];
  /** True when keys came from ./data because none were configured (development only). */
  usingDevelopmentKeys: boolean;
}

export interface CountryDailyCaps {
  byCountry: Record<string, number>;
  otherwise: number | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const blankToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(blankToUndefined, z.string().optional());
const integer = (fallback: number, min: number, max: number) =>
  z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const booleanFlag = z.preprocess(blankToUndefined, z.enum(['true', 'false']).optional());

const environmentSchema = z.object({
  NODE_ENV: optionalString,
  PORT: integer(4000, 0, 65535),
  METRICS_PORT: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(65535).optional()),
  HOST: optionalString,
  TRUST_PROXY: integer(0, 0, 10),
  CORS_ORIGINS: optionalString,
  BODY_LIMIT_BYTES: integer(LIMITS.bodyLimitBytes, 1_000, 10_000_000),
  DATABASE_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^mysql:\/\//, 'must be mysql://user:password@host:3306/db')
      .optional(),
  ),
  MIGRATIONS_RUN: booleanFlag,
  REDIS_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be redis://host:6379/0')
      .optional(),
  ),
  REDIS_CLUSTER_NODES: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'must be host:port,host:port')
      .optional(),
  ),
  SMS_PROVIDER: z.preprocess(blankToUndefined, z.enum(['sns', 'log']).default('log')),
  AWS_REGION: optionalString,
  SNS_ENDPOINT: z.preprocess(blankToUndefined, z.url().optional()),
  SMS_SENDER_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9]{1,11}$/, 'must be 1 to 11 letters or digits')
      .optional(),
  ),
  SMS_ALLOWED_COUNTRIES: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[A-Za-z]{2}(\s*,\s*[A-Za-z]{2})*$/, 'must be ISO 3166 codes, comma separated')
      .optional(),
  ),
  SMS_DAILY_BUDGET: integer(LIMITS.smsDailyBudget, 0, 100_000_000),
  SMS_SETUP_DAILY_BUDGET: z.preprocess(blankToUndefined, z.coerce.number().int().min(0).max(100_000_000).optional()),
  SMS_COUNTRY_DAILY_CAPS: optionalString,
  WEBOTP_DOMAIN: z.preprocess(
    blankToUndefined,
    z
      .string()
      .max(
        LIMITS.webOtpDomainMaxLength,
        `must be at most ${LIMITS.webOtpDomainMaxLength} characters (it is in every SMS)`,
      )
      .regex(
        /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i,
        'must be a host name, e.g. example.com',
      )
      .optional(),
  ),
  AUTH_JWT_SECRET: z.preprocess(blankToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  AUTH_JWKS_URL: z.preprocess(blankToUndefined, z.url().optional()),
  AUTH_ISSUER: optionalString,
  AUTH_AUDIENCE: optionalString,
  ASSERTION_JWT_SECRET: z.preprocess(blankToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  ASSERTION_AUDIENCE: z.preprocess(blankToUndefined, z.string().default('login')),
  SERVICE_ISSUER: z.preprocess(blankToUndefined, z.string().default('twofactor')),
  ENCRYPTION_KEYS: optionalString,
  ENCRYPTION_KEY: optionalString,
  ENCRYPTION_KEYS_RETIRED: optionalString,
  REAUTH_MAX_AGE: integer(LIMITS.reauthMaxAgeSeconds, 1, 86_400 * 30),
  AUTH_MAX_TOKEN_LIFETIME: integer(LIMITS.maxTokenLifetimeSeconds, 60, 86_400 * 30),
  INTROSPECTION: booleanFlag,
  GRAPHQL_EXECUTOR: z.preprocess(blankToUndefined, z.enum(['jit', 'graphql-js']).default('jit')),
  WEBAUTHN_RP_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[a-z0-9.-]{1,253}$/i, 'must be a domain, e.g. example.com')
      .optional(),
  ),
  WEBAUTHN_ORIGINS: optionalString,
  WEBAUTHN_RP_NAME: optionalString,
  /** The reference web client's port (npm run web): a development WebAuthn origin. */
  WEB_PORT: integer(5173, 1, 65535),
  TOTP_ISSUER: z.preprocess(
    blankToUndefined,
    z
      .string()
      .max(64)
      .regex(/^[^:]+$/, 'must not contain a colon')
      .default('TwoFactor'),
  ),
  IP_ATTEMPTS_PER_MINUTE: integer(LIMITS.ipAttemptsPerMinute, 1, 1_000_000),
  AUDIT_RETENTION_DAYS: integer(LIMITS.auditRetentionDays, 0, 36_500),
  TRUSTED_DEVICE_DAYS: integer(LIMITS.trustedDeviceDays, 0, LIMITS.maxTrustedDeviceDays),
  FIDO_MDS_BLOB_FILE: optionalString,
  FIDO_MDS_ROOT_CERT: optionalString,
  FIDO_MDS_CRLS: optionalString,
  FIDO_MDS_MAX_AGE_DAYS: integer(LIMITS.metadataMaxAgeDays, 0, 3650),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFlag,
  WEBHOOK_RETENTION_DAYS: integer(LIMITS.webhookRetentionDays, 1, 3650),
  WEBHOOK_POLL_INTERVAL_MS: integer(LIMITS.webhookPollIntervalMs, 10, 60_000),
  SSF_ISSUER: z.preprocess(blankToUndefined, z.url().optional()),
  SSF_SIGNING_KEY: optionalString,
  DATA_DIR: z.preprocess(blankToUndefined, z.string().default('./data')),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

type Environment = Record<string, string | undefined>;

/** Reads and validates the environment; throws a ConfigError naming every problem at once. */
export function loadConfig(environment: Environment = process.env): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const problems: string[] = [];
  const warnings: string[] = [];

  const encryptionKeys = readEncryptionKeys(env, problems);

  if (env.AUTH_JWT_SECRET && env.AUTH_JWKS_URL) problems.push('AUTH_JWT_SECRET and AUTH_JWKS_URL: set one, not both');
  if (env.ASSERTION_JWT_SECRET && env.ASSERTION_JWT_SECRET === env.AUTH_JWT_SECRET) {
    problems.push('ASSERTION_JWT_SECRET: must differ from AUTH_JWT_SECRET');
  }
  if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) problems.push('REDIS_URL and REDIS_CLUSTER_NODES: set one, not both');
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
    problems.push('METRICS_PORT: must differ from PORT (leave it unset to serve /metrics on PORT)');
  }
  // A fifth by default; never all of it, so login and step-up codes keep room.
  const setupDailyBudget = env.SMS_SETUP_DAILY_BUDGET ?? Math.floor(env.SMS_DAILY_BUDGET / 5);
  if (setupDailyBudget > 0 && setupDailyBudget >= env.SMS_DAILY_BUDGET) {
    problems.push(
      'SMS_SETUP_DAILY_BUDGET: must be less than SMS_DAILY_BUDGET (setups must leave room for login and step-up codes)',
    );
  }

  const allowedCountries = env.SMS_ALLOWED_COUNTRIES
    ? env.SMS_ALLOWED_COUNTRIES.split(',').map((code) => code.trim().toUpperCase())
    : null;
  const countryDailyCaps = parseCountryDailyCaps(env.SMS_COUNTRY_DAILY_CAPS, allowedCountries, problems);
  if (env.TOTP_ISSUER.length > LIMITS.smsProductNameMaxLength) {
    warnings.push(
      `TOTP_ISSUER: longer than ${LIMITS.smsProductNameMaxLength} characters; every SMS names it, so texts may take two segments`,
    );
  }

  const webAuthn = webAuthnSettings(env, production, problems);
  if (production) {
    if (!env.DATABASE_URL) problems.push('DATABASE_URL: required in production');
    if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES)
      problems.push('REDIS_URL or REDIS_CLUSTER_NODES: required in production');
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL)
      problems.push('AUTH_JWT_SECRET or AUTH_JWKS_URL: required in production');
    if (!env.ASSERTION_JWT_SECRET) problems.push('ASSERTION_JWT_SECRET: required in production');
    if (env.ENCRYPTION_KEYS === undefined && env.ENCRYPTION_KEY === undefined)
      problems.push('ENCRYPTION_KEYS (or ENCRYPTION_KEY): required in production (id:32 bytes of base64, ...)');
    if (env.SMS_PROVIDER !== 'sns')
      problems.push('SMS_PROVIDER: must be sns in production (log writes codes to the log)');
    // Unchecked, a token any service of the identity provider got would be good here too.
    if (!env.AUTH_ISSUER) problems.push("AUTH_ISSUER: required in production (the issuer callers' tokens must name)");
    if (!env.AUTH_AUDIENCE)
      problems.push("AUTH_AUDIENCE: required in production (the audience callers' tokens must name)");
  }
  const ssf = ssfSettings(env, production, problems);
  if (production && env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true') {
    warnings.push(
      'WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhook endpoints may use http and reach internal addresses (SSRF guard off)',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const needsDevelopmentKeys =
    (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) || !env.ASSERTION_JWT_SECRET || !encryptionKeys;
  const developmentKeys = needsDevelopmentKeys ? loadOrCreateDevelopmentKeys(env.DATA_DIR) : undefined;

  const store: Config['store'] = env.REDIS_CLUSTER_NODES
    ? {
        kind: 'redis-cluster',
        nodes: env.REDIS_CLUSTER_NODES.split(',').map((node) => {
          const [host, port] = node.split(':');
          return { host, port: Number(port) };
        }),
      }
    : env.REDIS_URL
      ? { kind: 'redis', url: env.REDIS_URL }
      : { kind: 'memory' };

  return {
    production,
    http: {
      port: env.PORT,
      host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
      trustProxy: env.TRUST_PROXY,
      corsOrigins: (env.CORS_ORIGINS ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      metricsPort: env.METRICS_PORT,
    },
    database: env.DATABASE_URL
      ? { kind: 'mysql', url: env.DATABASE_URL }
      : { kind: 'sqlite', file: `${env.DATA_DIR}/twofactor.sqlite` },
    migrationsRun: env.MIGRATIONS_RUN !== 'false',
    store,
    sms: {
      provider: env.SMS_PROVIDER,
      region: env.AWS_REGION ?? 'us-east-1',
      endpoint: env.SNS_ENDPOINT,
      senderId: env.SMS_SENDER_ID,
      allowedCountries,
      dailyBudget: env.SMS_DAILY_BUDGET,
      setupDailyBudget,
      countryDailyCaps,
      webOtpDomain: env.WEBOTP_DOMAIN?.toLowerCase() ?? null,
    },
    auth: {
      jwtSecret: env.AUTH_JWT_SECRET ?? (env.AUTH_JWKS_URL ? undefined : developmentKeys?.authJwtSecret),
      jwksUrl: env.AUTH_JWKS_URL,
      issuer: env.AUTH_ISSUER,
      audience: env.AUTH_AUDIENCE,
      reauthMaxAgeSeconds: env.REAUTH_MAX_AGE,
      maxTokenLifetimeSeconds: env.AUTH_MAX_TOKEN_LIFETIME,
    },
    assertion: {
      secret: env.ASSERTION_JWT_SECRET ?? developmentKeys!.assertionJwtSecret,
      audience: env.ASSERTION_AUDIENCE,
      issuer: env.SERVICE_ISSUER,
    },
    encryption: {
      // The development key is ENCRYPTION_KEY's: id 0.
      keys: encryptionKeys ?? [{ id: '0', key: Buffer.from(developmentKeys!.encryptionKey, 'base64') }],
    },
    introspection: env.INTROSPECTION ? env.INTROSPECTION === 'true' : !production,
    graphql: {
      executor: env.GRAPHQL_EXECUTOR,
      compiledDocuments: LIMITS.compiledDocuments,
      compileAfterRequests: LIMITS.compileAfterRequests,
    },
    totpIssuer: env.TOTP_ISSUER,
    webAuthn,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    trustedDevices: { days: env.TRUSTED_DEVICE_DAYS },
    metadataService: {
      blobFile: env.FIDO_MDS_BLOB_FILE,
      rootCertFile: env.FIDO_MDS_ROOT_CERT,
      crlFiles: (env.FIDO_MDS_CRLS ?? '')
        .split(',')
        .map((file) => file.trim())
        .filter(Boolean),
      maxAgeDays: env.FIDO_MDS_MAX_AGE_DAYS,
    },
    webhooks: {
      allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
      retentionDays: env.WEBHOOK_RETENTION_DAYS,
      pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
    },
    ssf,
    limits: {
      userFailuresPerWindow: LIMITS.userFailuresPerWindow,
      userFailureWindowSeconds: LIMITS.userFailureWindowSeconds,
      ipAttemptsPerMinute: env.IP_ATTEMPTS_PER_MINUTE,
    },
    dataDir: env.DATA_DIR,
    logLevel: env.LOG_LEVEL,
    warnings,
    usingDevelopmentKeys: needsDevelopmentKeys,
  };
}

/**
 * SSF_ISSUER and SSF_SIGNING_KEY. In production SSF is on only with an https
 * issuer, and then needs its key; in development the issuer defaults to the
 * service's own loopback address and the key is made once under DATA_DIR.
 */
function ssfSettings(
  env: { SSF_ISSUER?: string; SSF_SIGNING_KEY?: string; PORT: number; DATA_DIR: string },
  production: boolean,
  problems: string[],
): Config['ssf'] {
  if (production && !env.SSF_ISSUER) return null;
  const issuer = (env.SSF_ISSUER ?? `http://127.0.0.1:${env.PORT}`).replace(/\/+$/, '');
  if (production && !issuer.startsWith('https://')) problems.push('SSF_ISSUER: must be an https URL in production');
  if (production && !env.SSF_SIGNING_KEY) {
    problems.push('SSF_SIGNING_KEY: required with SSF_ISSUER in production (an EC P-256 private key, PEM)');
    return null;
  }
  if (env.SSF_SIGNING_KEY !== undefined) {
    const pem = env.SSF_SIGNING_KEY.replace(/\\n/g, '\n');
    if (!isP256PrivateKey(pem)) {
      problems.push(
        'SSF_SIGNING_KEY: must be an EC P-256 private key in PEM (openssl ecparam -name prime256v1 -genkey)',
      );
      return null;
    }
    return { issuer, signingKeyPem: pem };
  }
  return { issuer, signingKeyPem: loadOrCreateSsfSigningKey(env.DATA_DIR) };
}

function isP256PrivateKey(pem: string): boolean {
  try {
    const key = createPrivateKey(pem);
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}

/**
 * `US:5000,GB:1000,*:100`: SMS a UTC day per ISO 3166 country, `*` for each
 * country not listed. A cap names a country libphonenumber knows and, when
 * SMS_ALLOWED_COUNTRIES is set, one it allows (else a typo would cap nothing).
 */
function parseCountryDailyCaps(
  value: string | undefined,
  allowedCountries: string[] | null,
  problems: string[],
): CountryDailyCaps | null {
  if (value === undefined) return null;
  const caps: CountryDailyCaps = { byCountry: {}, otherwise: null };
  for (const entry of value.split(',')) {
    const match = /^\s*([A-Za-z]{2}|\*)\s*:\s*(\d{1,9})\s*$/.exec(entry);
    const country = match?.[1].toUpperCase();
    const cap = Number(match?.[2]);
    if (!match || !(cap >= 1)) {
      problems.push(
        `SMS_COUNTRY_DAILY_CAPS: ${JSON.stringify(entry.trim())} must be COUNTRY:CAP with a cap of 1 or more, e.g. US:5000,GB:1000,*:100`,
      );
      return null;
    }
    if (country === '*') {
      if (caps.otherwise !== null) return refused('* is given twice');
      caps.otherwise = cap;
      continue;
    }
    if (!isSupportedCountry(country!)) return refused(`${country} is no ISO 3166 country code`);
    if (caps.byCountry[country!] !== undefined) return refused(`${country} is given twice`);
    if (allowedCountries && !allowedCountries.includes(country!))
      return refused(`${country} is capped, but SMS_ALLOWED_COUNTRIES does not allow it`);
    caps.byCountry[country!] = cap;
  }
  return caps;

  function refused(why: string): null {
    problems.push(`SMS_COUNTRY_DAILY_CAPS: ${why}`);
    return null;
  }
}

/**
 * ENCRYPTION_KEYS (`id:base64,...`, the first seals, every one opens), or the
 * form from before key ids: ENCRYPTION_KEY as key `0`, ENCRYPTION_KEYS_RETIRED
 * as `r1`, `r2`, ... in their order. Both forms at once is refused (which
 * would win is a guess). Undefined when neither is set.
 */
function readEncryptionKeys(
  env: { ENCRYPTION_KEYS?: string; ENCRYPTION_KEY?: string; ENCRYPTION_KEYS_RETIRED?: string },
  problems: string[],
): Config['encryption']['keys'] | undefined {
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (env.ENCRYPTION_KEYS !== undefined) {
    if (env.ENCRYPTION_KEY !== undefined || env.ENCRYPTION_KEYS_RETIRED !== undefined) {
      problems.push('ENCRYPTION_KEYS: set it, or ENCRYPTION_KEY and ENCRYPTION_KEYS_RETIRED, not both');
      return undefined;
    }
    const keys: Config['encryption']['keys'] = [];
    for (const [index, item] of list(env.ENCRYPTION_KEYS).entries()) {
      const separator = item.indexOf(':');
      const id = separator < 0 ? '' : item.slice(0, separator);
      if (!/^[A-Za-z0-9_-]{1,16}$/.test(id)) {
        problems.push(
          `ENCRYPTION_KEYS[${index}]: must be id:base64, the id 1 to 16 of A-Z a-z 0-9 _ - (e.g. 2027a:$(openssl rand -base64 32))`,
        );
        continue;
      }
      if (keys.some((key) => key.id === id)) {
        problems.push(`ENCRYPTION_KEYS: key id ${id} is given twice`);
        continue;
      }
      const key = decodeKey(`ENCRYPTION_KEYS[${index}] (${id})`, item.slice(separator + 1), problems);
      if (key) keys.push({ id, key });
    }
    if (keys.length === 0 && problems.length === 0) problems.push('ENCRYPTION_KEYS: give at least one id:key');
    return keys.length > 0 ? keys : undefined;
  }
  if (env.ENCRYPTION_KEY === undefined) {
    if (env.ENCRYPTION_KEYS_RETIRED !== undefined) problems.push('ENCRYPTION_KEYS_RETIRED: needs ENCRYPTION_KEY');
    return undefined;
  }
  const current = decodeKey('ENCRYPTION_KEY', env.ENCRYPTION_KEY, problems);
  const retired = list(env.ENCRYPTION_KEYS_RETIRED).map((key, index) =>
    decodeKey(`ENCRYPTION_KEYS_RETIRED[${index}]`, key, problems),
  );
  if (!current || retired.some((key) => key === undefined)) return undefined;
  return [{ id: '0', key: current }, ...retired.map((key, index) => ({ id: `r${index + 1}`, key: key! }))];
}

function decodeKey(name: string, value: string, problems: string[]): Buffer | undefined {
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) {
    problems.push(`${name}: must be 32 bytes encoded as base64 (e.g. \`openssl rand -base64 32\`)`);
    return undefined;
  }
  return key;
}

/**
 * The relying party: both WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS, or neither
 * (WebAuthn is then off). Outside production, neither means localhost: the
 * service's own port and the reference web client's.
 */
function webAuthnSettings(
  env: z.infer<typeof environmentSchema>,
  production: boolean,
  problems: string[],
): Config['webAuthn'] {
  const rpName = env.WEBAUTHN_RP_NAME ?? env.TOTP_ISSUER;
  const origins = (env.WEBAUTHN_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (!env.WEBAUTHN_RP_ID && origins.length === 0) {
    if (production) return null;
    const ports = [...new Set([env.PORT, env.WEB_PORT])];
    return { rpId: 'localhost', rpName, origins: ports.map((port) => `http://localhost:${port}`) };
  }
  if (!env.WEBAUTHN_RP_ID || origins.length === 0) {
    problems.push('WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS: set both, or neither (WebAuthn off)');
    return null;
  }
  for (const origin of origins) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    const host = url?.hostname ?? '';
    const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && host === 'localhost');
    if (
      !url ||
      url.origin !== origin ||
      !secure ||
      (host !== env.WEBAUTHN_RP_ID && !host.endsWith(`.${env.WEBAUTHN_RP_ID}`))
    ) {
      problems.push(
        `WEBAUTHN_ORIGINS: ${JSON.stringify(origin)} must be an exact https origin on ${env.WEBAUTHN_RP_ID} or a subdomain of it`,
      );
    }
  }
  return { rpId: env.WEBAUTHN_RP_ID.toLowerCase(), rpName, origins };
}
