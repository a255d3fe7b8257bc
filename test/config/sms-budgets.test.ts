import { ConfigError, loadConfig } from '../../src/config/config';

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

describe('SMS_SETUP_DAILY_BUDGET', () => {
  it('defaults to a fifth of SMS_DAILY_BUDGET, rounded down', () => {
    expect(loadConfig({ DATA_DIR: dataDir }).sms).toMatchObject({ dailyBudget: 10_000, setupDailyBudget: 2_000 });
    expect(loadConfig({ DATA_DIR: dataDir, SMS_DAILY_BUDGET: '9' }).sms).toMatchObject({
      dailyBudget: 9,
      setupDailyBudget: 1,
    });
    expect(loadConfig({ DATA_DIR: dataDir, SMS_DAILY_BUDGET: '0' }).sms).toMatchObject({
      dailyBudget: 0,
      setupDailyBudget: 0,
    });
  });

  it('takes a value below SMS_DAILY_BUDGET', () => {
    expect(
      loadConfig({ DATA_DIR: dataDir, SMS_DAILY_BUDGET: '100', SMS_SETUP_DAILY_BUDGET: '99' }).sms.setupDailyBudget,
    ).toBe(99);
    expect(loadConfig({ DATA_DIR: dataDir, SMS_SETUP_DAILY_BUDGET: '0' }).sms.setupDailyBudget).toBe(0);
  });

  it.each([
    ['equal to the total (setups could take it all)', '100'],
    ['above the total', '101'],
    ['negative', '-1'],
    ['not a whole number', '1.5'],
    ['not a number', 'lots'],
  ])('refuses one %s, naming it', (_name, value) => {
    const problems = problemsOf({ SMS_DAILY_BUDGET: '100', SMS_SETUP_DAILY_BUDGET: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('SMS_SETUP_DAILY_BUDGET');
  });
});
