import { AnswerChecker } from '../../src/attempts/answer-checker';
import { AttemptLimits } from '../../src/attempts/attempt-limits';
import type { Answer, FactorCheck, SecondFactor } from '../../src/attempts/second-factor';
import { LIMITS } from '../../src/limits';
import { TwoFactorMethod } from '../../src/users/two-factor-method';
import { embeddedKit, type EmbeddedKit } from '../support/embedded-kit';

/** A factor whose answers start with its `prefix` and whose right answer is `right`, as the registry would list it. */
function fakeFactor(
  method: TwoFactorMethod,
  prefix: string,
  right: string,
  refusedWhenLocked = true,
): SecondFactor & { used: number } {
  return {
    method,
    refusedWhenLocked,
    used: 0,
    accepts: ({ code }: Answer) => code !== undefined && code.startsWith(prefix),
    async verify({ answer: { code } }: FactorCheck) {
      if (code !== right) return null;
      this.used += 1;
      return { amr: [method.toLowerCase()] };
    },
  };
}

describe('the answer checker (embedded SQLite, in-process store)', () => {
  let kit: EmbeddedKit;
  let checker: AnswerChecker;
  let limits: AttemptLimits;
  const totp = fakeFactor(TwoFactorMethod.TOTP, 'totp-', 'totp-right');
  const recovery = fakeFactor(TwoFactorMethod.RECOVERY_CODE, 'recovery-', 'recovery-right', false);
  const actor = { actorId: 'u', clientIp: '127.0.0.1' };
  const check = (userId: string, code: string, onSuccess = async () => 'done') =>
    checker.check({
      userId,
      answer: { code },
      factors: [totp, recovery],
      purpose: { kind: 'step-up', userId },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess,
    });

  const checkerDeps = () => ({
    database: kit.database,
    users: kit.users,
    audit: kit.audit,
    clock: kit.clock,
    logger: kit.logger,
  });

  beforeAll(async () => {
    kit = await embeddedKit();
    limits = new AttemptLimits(
      kit.store,
      {
        userFailuresPerWindow: LIMITS.userFailuresPerWindow,
        userFailureWindowSeconds: LIMITS.userFailureWindowSeconds,
        ipAttemptsPerMinute: 1_000_000,
      },
      kit.storeKeys,
    );
    checker = new AnswerChecker({ ...checkerDeps(), limits });
  });
  afterAll(() => kit.close());

  it('accepts the first factor that verifies, records its use, and returns its method and amr', async () => {
    const outcome = await check('right', 'totp-right', async () => 'effect');
    expect(outcome).toEqual({ method: TwoFactorMethod.TOTP, result: 'effect' });
    expect(totp.used).toBe(1);
  });

  it('refuses a wrong answer as INVALID_CODE, counted in a row and audited', async () => {
    await expect(check('wrong', 'totp-wrong')).rejects.toMatchObject({ code: 'INVALID_CODE' });
    expect((await kit.database.run((m) => kit.users.find(m, 'wrong')))?.failedAttemptsInRow).toBe(1);
    expect(await kit.actionsOf('wrong')).toEqual(['CODE_CHECK_FAILED']);
  });

  it(`counts before it checks: past ${LIMITS.userFailuresPerWindow} failures even a right answer is RATE_LIMITED`, async () => {
    for (let i = 0; i < LIMITS.userFailuresPerWindow; i += 1)
      await expect(check('limited', 'totp-wrong')).rejects.toMatchObject({ code: 'INVALID_CODE' });
    await expect(check('limited', 'totp-right')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('a lock refuses the factors it refuses, not the others, and a success ends the row', async () => {
    await check('locked', 'totp-wrong').catch(() => undefined);
    await kit.database.transaction((m) =>
      kit.users.update(m, 'locked', { failedAttemptsInRow: LIMITS.failuresInRowToLock }),
    );
    await expect(check('locked', 'totp-right')).rejects.toMatchObject({ code: 'TWO_FACTOR_LOCKED' });
    await expect(check('locked', 'recovery-right')).resolves.toMatchObject({ method: TwoFactorMethod.RECOVERY_CODE });
    expect((await kit.database.run((m) => kit.users.find(m, 'locked')))?.failedAttemptsInRow).toBe(0);
  });

  it('a success whose effect is refused rolls everything back and is no failure', async () => {
    const refused = async () => {
      throw Object.assign(new Error('refused'), { code: 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION' });
    };
    await expect(check('rolled-back', 'totp-right', refused)).rejects.toThrow('refused');
    expect((await kit.database.run((m) => kit.users.find(m, 'rolled-back')))?.failedAttemptsInRow ?? 0).toBe(0);
    expect(await kit.actionsOf('rolled-back')).toEqual([]);
  });

  it('counts nothing for a right answer whose effect is refused, and still counts a wrong one whose record fails', async () => {
    const failingAudit = {
      record: async () => {
        throw new Error('the audit log cannot be written');
      },
    } as unknown as typeof kit.audit;
    const fragile = new AnswerChecker({ ...checkerDeps(), limits, audit: failingAudit });
    const attempt = (userId: string, code: string, onSuccess: () => Promise<string>) =>
      fragile.check({
        userId,
        answer: { code },
        factors: [totp],
        purpose: { kind: 'step-up', userId },
        actor,
        failureAction: 'CODE_CHECK_FAILED',
        onSuccess,
      });
    const refusedEffect = async (): Promise<string> => {
      throw new Error('effect refused');
    };
    await expect(attempt('given-back', 'totp-right', refusedEffect)).rejects.toThrow('effect refused');
    await expect(attempt('kept', 'totp-wrong', async () => 'never')).rejects.toThrow('cannot be written');
    const user = (id: string) => kit.database.run((m) => kit.users.find(m, id));
    expect((await user('given-back'))?.failuresInWindow ?? 0).toBe(0);
    // Counted alone, in a transaction of its own: a failure that cannot be recorded is no free guess.
    expect(await user('kept')).toMatchObject({ failuresInWindow: 1, failedAttemptsInRow: 1 });
  });

  it('wants exactly one answer', async () => {
    const both = checker.check({
      userId: 'both',
      answer: { code: 'totp-right', webAuthn: {} },
      factors: [totp],
      purpose: { kind: 'step-up', userId: 'both' },
      actor,
      failureAction: 'CODE_CHECK_FAILED',
      onSuccess: async () => null,
    });
    await expect(both).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
