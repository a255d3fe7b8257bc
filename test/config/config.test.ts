import { ConfigError, loadConfig } from '../../src/config/config';

const key = Buffer.alloc(32, 1).toString('base64');
const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/twofactor',
  REDIS_URL: 'redis://cache:6379/0',
  AUTH_JWT_SECRET: 'a'.repeat(40),
  ASSERTION_JWT_SECRET: 'b'.repeat(40),
  ENCRYPTION_KEY: key,
  SMS_PROVIDER: 'sns',
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'twofactor',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configuration', () => {
  it('starts in production with everything the contract lists', () => {
    const config = loadConfig(production);
    expect(config.production).toBe(true);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.introspection).toBe(false);
    expect(config.store).toEqual({ kind: 'redis', url: 'redis://cache:6379/0' });
    expect(config.warnings).toEqual([]);
  });

  it('refuses production without each required setting, naming every one', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'AUTH_JWT_SECRET',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'ASSERTION_JWT_SECRET',
      'ENCRYPTION_KEY',
      'SMS_PROVIDER',
    ]) {
      expect(problems.some((problem) => problem.includes(name))).toBe(true);
    }
  });

  it("bounds callers' token lifetime with AUTH_MAX_TOKEN_LIFETIME, 24 hours by default", () => {
    expect(loadConfig(production).auth.maxTokenLifetimeSeconds).toBe(86_400);
    expect(loadConfig({ ...production, AUTH_MAX_TOKEN_LIFETIME: '3600' }).auth.maxTokenLifetimeSeconds).toBe(3_600);
    for (const value of ['0', '-1', '1e308', 'Infinity', '2592001', 'soon']) {
      expect(problemsOf({ ...production, AUTH_MAX_TOKEN_LIFETIME: value })[0]).toContain('AUTH_MAX_TOKEN_LIFETIME');
    }
  });

  it('refuses an encryption key that is not 32 bytes of base64', () => {
    expect(problemsOf({ ...production, ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toEqual([
      expect.stringContaining('ENCRYPTION_KEY: must be 32 bytes'),
    ]);
    expect(problemsOf({ ...production, ENCRYPTION_KEY: 'not base64 at all!' })[0]).toContain('ENCRYPTION_KEY');
  });

  describe('encryption keys', () => {
    const other = Buffer.alloc(32, 2).toString('base64');
    const third = Buffer.alloc(32, 3).toString('base64');
    const withoutLegacy = { ...production, ENCRYPTION_KEY: undefined };

    it('reads ENCRYPTION_KEYS as id:base64, the first sealing, in their order', () => {
      const config = loadConfig({ ...withoutLegacy, ENCRYPTION_KEYS: `2027a:${other}, 2026b:${key}` });
      expect(config.encryption.keys).toEqual([
        { id: '2027a', key: Buffer.from(other, 'base64') },
        { id: '2026b', key: Buffer.from(key, 'base64') },
      ]);
    });

    it('still accepts ENCRYPTION_KEY as key 0 and ENCRYPTION_KEYS_RETIRED as r1, r2, ...', () => {
      expect(loadConfig(production).encryption.keys).toEqual([{ id: '0', key: Buffer.from(key, 'base64') }]);
      const config = loadConfig({ ...production, ENCRYPTION_KEYS_RETIRED: `${other},${third}` });
      expect(config.encryption.keys.map((entry) => entry.id)).toEqual(['0', 'r1', 'r2']);
      expect(config.encryption.keys[2].key).toEqual(Buffer.from(third, 'base64'));
    });

    it('refuses both forms at once', () => {
      expect(problemsOf({ ...production, ENCRYPTION_KEYS: `a:${other}` })).toEqual([
        expect.stringContaining('ENCRYPTION_KEYS: set it, or ENCRYPTION_KEY and ENCRYPTION_KEYS_RETIRED, not both'),
      ]);
      expect(
        problemsOf({ ...withoutLegacy, ENCRYPTION_KEYS: `a:${other}`, ENCRYPTION_KEYS_RETIRED: key }),
      ).toHaveLength(1);
    });

    it('refuses malformed ids, keys that are not 32 bytes, and an id given twice', () => {
      for (const keys of [other, `:${other}`, `a.b:${other}`, `${'x'.repeat(17)}:${other}`]) {
        expect(problemsOf({ ...withoutLegacy, ENCRYPTION_KEYS: keys })[0]).toContain('must be id:base64');
      }
      expect(
        problemsOf({ ...withoutLegacy, ENCRYPTION_KEYS: `a:${Buffer.alloc(16).toString('base64')}` })[0],
      ).toContain('must be 32 bytes');
      expect(problemsOf({ ...withoutLegacy, ENCRYPTION_KEYS: `a:${other},a:${key}` })[0]).toContain('given twice');
      expect(problemsOf({ ...withoutLegacy, ENCRYPTION_KEYS: ' , ' })[0]).toContain('ENCRYPTION_KEYS');
    });

    it('refuses production with neither form', () => {
      expect(problemsOf(withoutLegacy)).toEqual([expect.stringContaining('ENCRYPTION_KEYS (or ENCRYPTION_KEY)')]);
      expect(problemsOf({ ...withoutLegacy, ENCRYPTION_KEYS_RETIRED: key })).toEqual(
        expect.arrayContaining([expect.stringContaining('ENCRYPTION_KEYS_RETIRED: needs ENCRYPTION_KEY')]),
      );
    });
  });

  it("refuses an assertion secret equal to the callers' secret", () => {
    expect(problemsOf({ ...production, ASSERTION_JWT_SECRET: production.AUTH_JWT_SECRET })).toEqual([
      expect.stringContaining('ASSERTION_JWT_SECRET: must differ'),
    ]);
  });

  it('refuses the log SMS provider in production', () => {
    expect(problemsOf({ ...production, SMS_PROVIDER: 'log' })[0]).toContain('SMS_PROVIDER');
  });

  it('accepts a Redis Cluster instead of REDIS_URL', () => {
    const config = loadConfig({ ...production, REDIS_URL: undefined, REDIS_CLUSTER_NODES: 'r1:7000,r2:7001' });
    expect(config.store).toEqual({
      kind: 'redis-cluster',
      nodes: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7001 },
      ],
    });
  });

  it('refuses production when issuer or audience would not be checked', () => {
    expect(problemsOf({ ...production, AUTH_ISSUER: undefined })).toEqual([
      expect.stringContaining('AUTH_ISSUER: required in production'),
    ]);
    expect(problemsOf({ ...production, AUTH_AUDIENCE: ' ' })).toEqual([
      expect.stringContaining('AUTH_AUDIENCE: required in production'),
    ]);
  });

  it('checks issuer and audience outside production when set', () => {
    const config = loadConfig({ ...production, NODE_ENV: 'development' });
    expect(config.auth).toMatchObject({ issuer: 'https://id.example', audience: 'twofactor' });
  });

  it('keeps the contract defaults', () => {
    const config = loadConfig({ ...production, NODE_ENV: 'development' });
    expect(config.http.port).toBe(4000);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.sms.dailyBudget).toBe(10_000);
    expect(config.auth.reauthMaxAgeSeconds).toBe(900);
    expect(config.assertion).toMatchObject({ audience: 'login', issuer: 'twofactor' });
    expect(config.limits.ipAttemptsPerMinute).toBe(100);
    expect(config.introspection).toBe(true);
    expect(config.migrationsRun).toBe(true);
  });

  it('switches database and store separately', () => {
    const dataDir = `/tmp/tf-config-test-${process.pid}`;
    expect(loadConfig({ DATA_DIR: dataDir }).database.kind).toBe('sqlite');
    expect(loadConfig({ DATA_DIR: dataDir }).store.kind).toBe('memory');
    expect(loadConfig({ DATA_DIR: dataDir, DATABASE_URL: 'mysql://root@127.0.0.1/test' }).store.kind).toBe('memory');
    expect(loadConfig({ DATA_DIR: dataDir, REDIS_URL: 'redis://127.0.0.1:6379' }).database.kind).toBe('sqlite');
  });

  it('runs queries compiled by default, with graphql-js alone when told', () => {
    expect(loadConfig(production).graphql.executor).toBe('jit');
    expect(loadConfig({ ...production, GRAPHQL_EXECUTOR: 'graphql-js' }).graphql.executor).toBe('graphql-js');
    expect(problemsOf({ ...production, GRAPHQL_EXECUTOR: 'fast' })[0]).toContain('GRAPHQL_EXECUTOR');
  });

  it('rejects malformed numbers and URLs', () => {
    expect(problemsOf({ ...production, PORT: 'eighty' })[0]).toContain('PORT');
    expect(problemsOf({ ...production, DATABASE_URL: 'postgres://x' })[0]).toContain('DATABASE_URL');
    expect(problemsOf({ ...production, SMS_ALLOWED_COUNTRIES: 'US,Germany' })[0]).toContain('SMS_ALLOWED_COUNTRIES');
  });
});
