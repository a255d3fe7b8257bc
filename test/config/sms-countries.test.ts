import { ConfigError, loadConfig } from '../../src/config/config';
import { LIMITS } from '../../src/limits';

const dataDir = `/tmp/tf-config-test-${process.pid}`;

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ DATA_DIR: dataDir, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('SMS_COUNTRY_DAILY_CAPS', () => {
  it('is off when unset: no cap besides the budgets', () => {
    expect(loadConfig({ DATA_DIR: dataDir }).sms.countryDailyCaps).toBeNull();
  });

  it('reads caps per ISO country and * for each country not listed', () => {
    expect(
      loadConfig({ DATA_DIR: dataDir, SMS_COUNTRY_DAILY_CAPS: 'US:5000, gb:1000,*:100' }).sms.countryDailyCaps,
    ).toEqual({ byCountry: { US: 5000, GB: 1000 }, otherwise: 100 });
    // Without *, countries not listed have no cap of their own.
    expect(loadConfig({ DATA_DIR: dataDir, SMS_COUNTRY_DAILY_CAPS: 'DE:10' }).sms.countryDailyCaps).toEqual({
      byCountry: { DE: 10 },
      otherwise: null,
    });
  });

  it.each([
    ['a country that is no ISO 3166 code libphonenumber knows', 'XX:10'],
    ['a malformed entry', 'US=10'],
    ['a cap that is no whole number', 'US:1.5'],
    ['a cap of 0 (leave the country out of SMS_ALLOWED_COUNTRIES instead)', 'US:0'],
    ['a negative cap', 'US:-1'],
    ['a country twice', 'US:10,us:20'],
    ['* twice', '*:10,*:20'],
    ['an empty entry', 'US:10,,GB:5'],
  ])('refuses %s, naming the variable', (_name, value) => {
    const problems = problemsOf({ SMS_COUNTRY_DAILY_CAPS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('SMS_COUNTRY_DAILY_CAPS');
  });

  it('refuses a cap for a country SMS_ALLOWED_COUNTRIES does not allow (a typo would go unnoticed)', () => {
    const problems = problemsOf({ SMS_ALLOWED_COUNTRIES: 'US,CA', SMS_COUNTRY_DAILY_CAPS: 'US:10,GB:5,*:1' });
    expect(problems).toEqual([expect.stringMatching(/SMS_COUNTRY_DAILY_CAPS.*GB.*SMS_ALLOWED_COUNTRIES/)]);
  });
});

describe('WEBOTP_DOMAIN', () => {
  it('is off when unset', () => {
    expect(loadConfig({ DATA_DIR: dataDir }).sms.webOtpDomain).toBeNull();
  });

  it('takes a host name, in lower case', () => {
    expect(loadConfig({ DATA_DIR: dataDir, WEBOTP_DOMAIN: 'Login.Example.com' }).sms.webOtpDomain).toBe(
      'login.example.com',
    );
  });

  it.each([
    ['a URL', 'https://example.com'],
    ['a port', 'example.com:443'],
    ['a path', 'example.com/login'],
    ['white space', 'exa mple.com'],
    ['a label starting with a hyphen', '-example.com'],
    ['a name longer than an SMS has room for', `${'a'.repeat(LIMITS.webOtpDomainMaxLength - 3)}.com`],
  ])('refuses %s', (_name, value) => {
    const problems = problemsOf({ WEBOTP_DOMAIN: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('WEBOTP_DOMAIN');
  });
});

describe('TOTP_ISSUER in SMS texts', () => {
  it(`warns when it is longer than ${LIMITS.smsProductNameMaxLength} characters: every SMS names it`, () => {
    expect(loadConfig({ DATA_DIR: dataDir, TOTP_ISSUER: 'A'.repeat(LIMITS.smsProductNameMaxLength) }).warnings).toEqual(
      [],
    );
    expect(
      loadConfig({ DATA_DIR: dataDir, TOTP_ISSUER: 'A'.repeat(LIMITS.smsProductNameMaxLength + 1) }).warnings,
    ).toEqual([expect.stringMatching(/TOTP_ISSUER.*SMS/)]);
  });
});
