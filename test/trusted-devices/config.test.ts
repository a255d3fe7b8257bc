import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { LIMITS } from '../../src/limits';

describe('TRUSTED_DEVICE_DAYS', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-td-config-'));
  const load = (value?: string) =>
    loadConfig({ DATA_DIR: dataDir, ...(value === undefined ? {} : { TRUSTED_DEVICE_DAYS: value }) });

  it(`defaults to ${LIMITS.trustedDeviceDays} days; 0 turns the feature off; blank is the default`, () => {
    expect(load().trustedDevices.days).toBe(LIMITS.trustedDeviceDays);
    expect(load('').trustedDevices.days).toBe(LIMITS.trustedDeviceDays);
    expect(load('0').trustedDevices.days).toBe(0);
    expect(load('7').trustedDevices.days).toBe(7);
    expect(load(String(LIMITS.maxTrustedDeviceDays)).trustedDevices.days).toBe(LIMITS.maxTrustedDeviceDays);
  });

  it('refuses what is not a whole number of days from 0 to the maximum, naming the variable', () => {
    for (const value of ['-1', String(LIMITS.maxTrustedDeviceDays + 1), '1.5', 'thirty']) {
      expect(() => load(value)).toThrow(ConfigError);
      expect(() => load(value)).toThrow(/TRUSTED_DEVICE_DAYS/);
    }
  });
});
