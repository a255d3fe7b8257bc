import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from '../../../src/config/config';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'mysql://app:secret@db:3306/twofactor',
  REDIS_URL: 'redis://cache:6379/0',
  AUTH_JWT_SECRET: 'a'.repeat(40),
  ASSERTION_JWT_SECRET: 'b'.repeat(40),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  SMS_PROVIDER: 'sns',
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'twofactor',
};

const pem = (curve: string) =>
  generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** SSF_ISSUER and SSF_SIGNING_KEY (contract: README.md, "Security signals"). */
describe('Shared Signals settings', () => {
  it('is off in production without SSF_ISSUER', () => {
    expect(loadConfig(production).ssf).toBeNull();
  });

  it('takes an https issuer and an EC P-256 key in production', () => {
    const key = pem('P-256');
    const config = loadConfig({ ...production, SSF_ISSUER: 'https://ssf.example/', SSF_SIGNING_KEY: key });
    expect(config.ssf).toEqual({ issuer: 'https://ssf.example', signingKeyPem: key });
  });

  it('refuses an http issuer, a missing key, and a key of another kind', () => {
    expect(problemsOf({ ...production, SSF_ISSUER: 'http://ssf.example', SSF_SIGNING_KEY: pem('P-256') })).toEqual([
      'SSF_ISSUER: must be an https URL in production',
    ]);
    expect(problemsOf({ ...production, SSF_ISSUER: 'https://ssf.example' })).toEqual([
      expect.stringMatching(/^SSF_SIGNING_KEY: required/),
    ]);
    for (const key of [pem('P-384'), 'not a key']) {
      expect(problemsOf({ ...production, SSF_ISSUER: 'https://ssf.example', SSF_SIGNING_KEY: key })).toEqual([
        expect.stringMatching(/^SSF_SIGNING_KEY: must be an EC P-256 private key/),
      ]);
    }
  });

  it('reads a key given on one line with \\n escapes', () => {
    const key = pem('P-256');
    const config = loadConfig({
      ...production,
      SSF_ISSUER: 'https://ssf.example',
      SSF_SIGNING_KEY: key.replace(/\n/g, '\\n'),
    });
    expect(config.ssf?.signingKeyPem).toBe(key);
  });
});
