import { errorCode, startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../../support/two-factor';

const START = 'mutation($c: String) { startTotpSetup(code: $c) { secret otpauthUri qrCodeSvg expiresAt } }';
const CONFIRM =
  'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes status { enabled methods totp { createdAt lastUsedAt } recoveryCodesRemaining enabledAt } } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code usedAt } generatedAt } }';
const REGENERATE = 'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { codes { code usedAt } generatedAt } }';
const REMOVE =
  'mutation($c: String!) { removeTotp(code: $c) { enabled methods totp { createdAt } recoveryCodesRemaining } }';
const DISABLE =
  'mutation($c: String!) { disableTwoFactor(code: $c) { enabled methods recoveryCodesRemaining enabledAt } }';
const STATUS = '{ me { twoFactor { enabled locked methods recoveryCodesRemaining } } }';

describe('TOTP authenticator apps and recovery codes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  const freshToken = (userId: string) => t.token(userId, [], { authTime: t.clock.now() });

  describe('setting up', () => {
    it('makes a 160-bit base32 secret, its otpauth URI and an SVG QR code, and changes nothing yet', async () => {
      const token = await freshToken(uniqueId('u'));
      const { data } = await t.gql(START, {}, token);
      expect(data.startTotpSetup.secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(data.startTotpSetup.otpauthUri).toMatch(
        new RegExp(
          `^otpauth://totp/TwoFactor:u-[0-9a-f]+\\?secret=${data.startTotpSetup.secret}&issuer=TwoFactor&algorithm=SHA1&digits=6&period=30$`,
        ),
      );
      expect(data.startTotpSetup.qrCodeSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
      expect(new Date(data.startTotpSetup.expiresAt).getTime() - t.clock.now().getTime()).toBe(10 * 60 * 1000);
      expect((await t.gql(STATUS, {}, token)).data.me.twoFactor.enabled).toBe(false);
    });

    it('confirms with a current code: two-factor on, ten recovery codes shown once', async () => {
      const userId = uniqueId('u');
      const token = await freshToken(userId);
      const { secret } = (await t.gql(START, {}, token)).data.startTotpSetup;
      expect(errorCode(await t.gql(CONFIRM, { c: currentTotp(t, secret, 5) }, token))).toBe('INVALID_CODE');
      const result = (await t.gql(CONFIRM, { c: currentTotp(t, secret) }, token)).data.confirmTotpSetup;
      expect(result.status).toMatchObject({ enabled: true, methods: ['TOTP'], recoveryCodesRemaining: 10 });
      expect(result.status.enabledAt).toBe(t.clock.now().toISOString());
      expect(result.recoveryCodes).toHaveLength(10);
      expect(new Set(result.recoveryCodes).size).toBe(10);
      for (const code of result.recoveryCodes) expect(code).toMatch(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/);
    });

    it('confirming with no pending setup, or an expired one, is NOT_FOUND', async () => {
      const token = await freshToken(uniqueId('u'));
      expect(errorCode(await t.gql(CONFIRM, { c: '123456' }, token))).toBe('NOT_FOUND');
      const { secret } = (await t.gql(START, {}, token)).data.startTotpSetup;
      t.clock.advance(10 * 60 * 1000 + 1);
      expect(errorCode(await t.gql(CONFIRM, { c: currentTotp(t, secret) }, await freshToken('x')))).toBe('NOT_FOUND');
    });

    it('starting again replaces the pending secret', async () => {
      const token = await freshToken(uniqueId('u'));
      const first = (await t.gql(START, {}, token)).data.startTotpSetup.secret;
      const second = (await t.gql(START, {}, token)).data.startTotpSetup.secret;
      expect(second).not.toBe(first);
      expect(errorCode(await t.gql(CONFIRM, { c: currentTotp(t, first) }, token))).toBe('INVALID_CODE');
      expect((await t.gql(CONFIRM, { c: currentTotp(t, second) }, token)).data.confirmTotpSetup.status.enabled).toBe(
        true,
      );
    });

    it('the first factor needs a recent sign-in (auth_time within REAUTH_MAX_AGE)', async () => {
      const userId = uniqueId('u');
      const stale = await t.token(userId, [], { authTime: new Date(t.clock.now().getTime() - 901_000) });
      expect(errorCode(await t.gql(START, {}, stale))).toBe('REAUTHENTICATION_REQUIRED');
      const { secret } = (await t.gql(START, {}, await freshToken(userId))).data.startTotpSetup;
      expect(errorCode(await t.gql(CONFIRM, { c: currentTotp(t, secret) }, stale))).toBe('REAUTHENTICATION_REQUIRED');
    });

    it('with two-factor on, a replacement needs a step-up and takes effect only when confirmed', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      expect(errorCode(await t.gql(START, {}, user.token))).toBe('BAD_USER_INPUT');
      const { secret } = (await t.gql(START, { c: currentTotp(t, user.secret) }, user.token)).data.startTotpSetup;
      nextStep(t);
      // The old authenticator still works until the new one is confirmed.
      expect((await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token)).errors).toBeUndefined();
      nextStep(t);
      const confirmed = (await t.gql(CONFIRM, { c: currentTotp(t, secret) }, user.token)).data.confirmTotpSetup;
      expect(confirmed.recoveryCodes).toBeNull();
      nextStep(t);
      expect(errorCode(await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token))).toBe('INVALID_CODE');
      expect((await t.gql(VIEW, { c: currentTotp(t, secret) }, user.token)).errors).toBeUndefined();
    });
  });

  describe('codes', () => {
    it.each([-1, 0, 1])('accepts the code of step T%+d', async (offset) => {
      const user = await enrollTotp(t, uniqueId('u'));
      t.clock.advance(90_000);
      expect((await t.gql(VIEW, { c: currentTotp(t, user.secret, offset) }, user.token)).errors).toBeUndefined();
    });

    it.each([-2, 2])('refuses the code of step T%+d', async (offset) => {
      const user = await enrollTotp(t, uniqueId('u'));
      t.clock.advance(90_000);
      expect(errorCode(await t.gql(VIEW, { c: currentTotp(t, user.secret, offset) }, user.token))).toBe('INVALID_CODE');
    });

    it('a code works once, and no code of an earlier step works after it', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const later = currentTotp(t, user.secret, 1);
      expect((await t.gql(VIEW, { c: later }, user.token)).errors).toBeUndefined();
      expect(errorCode(await t.gql(VIEW, { c: later }, user.token))).toBe('INVALID_CODE');
      expect(errorCode(await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token))).toBe('INVALID_CODE');
    });

    it('accepts surrounding white space and refuses the malformed variants of a right code', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const right = currentTotp(t, user.secret);
      for (const variant of [
        `+${right.slice(1)}`,
        `${right}a`,
        `${right}0`,
        right.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))),
        `${right.slice(0, 3)} ${right.slice(3)}`,
      ]) {
        expect(errorCode(await t.gql(VIEW, { c: variant }, user.token))).toBe('INVALID_CODE');
      }
      expect((await t.gql(VIEW, { c: ` ${right}\t` }, user.token)).errors).toBeUndefined();
      const [row] = await t.sql('SELECT failed_attempts_in_row AS failures FROM users WHERE id = ?', [user.userId]);
      expect(row.failures).toBe(0);
    });

    it('20 parallel uses of one code: exactly one succeeds', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const code = currentTotp(t, user.secret);
      const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(VIEW, { c: code }, user.token)));
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      // Each was counted before it was checked: the losers are INVALID_CODE, or RATE_LIMITED past 10.
      expect(results.filter((result) => ['INVALID_CODE', 'RATE_LIMITED'].includes(errorCode(result)!))).toHaveLength(
        19,
      );
    });
  });

  describe('recovery codes', () => {
    it('each works once, in any case, with or without dashes; viewing shows which are used', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const [first, second] = user.recoveryCodes;
      expect((await t.gql(VIEW, { c: first.toLowerCase().replace(/-/g, ' ') }, user.token)).errors).toBeUndefined();
      expect(errorCode(await t.gql(VIEW, { c: first }, user.token))).toBe('INVALID_CODE');
      const list = (await t.gql(VIEW, { c: second.replace(/-/g, '') }, user.token)).data.viewRecoveryCodes;
      expect(list.codes.map((c: { code: string }) => c.code)).toEqual(user.recoveryCodes);
      expect(list.codes.filter((c: { usedAt: string | null }) => c.usedAt !== null)).toHaveLength(2);
      expect((await t.gql(STATUS, {}, user.token)).data.me.twoFactor.recoveryCodesRemaining).toBe(8);
    });

    it('20 parallel uses of one recovery code: exactly one succeeds', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => t.gql(VIEW, { c: user.recoveryCodes[3] }, user.token)),
      );
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
    });

    it('regenerating voids the whole old set', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const fresh = (await t.gql(REGENERATE, { c: currentTotp(t, user.secret) }, user.token)).data
        .regenerateRecoveryCodes;
      expect(fresh.codes).toHaveLength(10);
      expect(fresh.codes.every((c: { usedAt: null }) => c.usedAt === null)).toBe(true);
      expect(errorCode(await t.gql(VIEW, { c: user.recoveryCodes[1] }, user.token))).toBe('INVALID_CODE');
      expect((await t.gql(VIEW, { c: fresh.codes[0].code }, user.token)).errors).toBeUndefined();
    });

    it('regenerating races using a code: the set ends whole, and an old code never works after', async () => {
      for (let round = 0; round < 5; round += 1) {
        const user = await enrollTotp(t, uniqueId('u'));
        const [regenerated, used] = await Promise.all([
          t.gql(REGENERATE, { c: currentTotp(t, user.secret) }, user.token),
          t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token),
        ]);
        expect(regenerated.errors).toBeUndefined();
        const rows = await t.sql('SELECT used_at FROM recovery_codes WHERE user_id = ?', [user.userId]);
        expect(rows).toHaveLength(10);
        // If the old code won, it was used before the new set replaced it; either way the new set is unused.
        expect(rows.every((row) => row.used_at === null)).toBe(true);
        expect(used.errors === undefined || errorCode(used) === 'INVALID_CODE').toBe(true);
        expect(errorCode(await t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token))).toBe('INVALID_CODE');
      }
    });
  });

  describe('failed attempts', () => {
    it('50 parallel wrong guesses: at most 10 are counted, the rest RATE_LIMITED; then even a right code is refused', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => t.gql(VIEW, { c: String(100000 + i) }, user.token)),
      );
      const invalid = results.filter((result) => errorCode(result) === 'INVALID_CODE').length;
      const limited = results.filter((result) => errorCode(result) === 'RATE_LIMITED');
      expect(invalid).toBeLessThanOrEqual(10);
      expect(invalid + limited.length).toBe(50);
      const [row] = await t.sql('SELECT failed_attempts_in_row AS failures FROM users WHERE id = ?', [user.userId]);
      expect(row.failures).toBeLessThanOrEqual(10);
      const right = await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token);
      expect(errorCode(right)).toBe('RATE_LIMITED');
      expect(right.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
      expect(right.errors![0].extensions!.retryAfterSeconds).toBeLessThanOrEqual(900);
    });

    it('10 failures in the window, then RATE_LIMITED with retryAfterSeconds', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      for (let i = 0; i < 10; i += 1)
        expect(errorCode(await t.gql(VIEW, { c: 'nope' }, user.token))).toBe('INVALID_CODE');
      const refused = await t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token);
      expect(errorCode(refused)).toBe('RATE_LIMITED');
      // Not checked: the recovery code is still unused.
      const [row] = await t.sql(
        'SELECT COUNT(*) AS used FROM recovery_codes WHERE user_id = ? AND used_at IS NOT NULL',
        [user.userId],
      );
      expect(Number(row.used)).toBe(0);
    });

    it('after 100 failures in a row: TOTP locked, a recovery code still works and unlocks', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      // 99 failures from earlier windows (kept in the database), then one more.
      await t.sql('UPDATE users SET failed_attempts_in_row = 99 WHERE id = ?', [user.userId]);
      expect(errorCode(await t.gql(VIEW, { c: '000000' }, user.token))).toBe('INVALID_CODE');
      expect((await t.gql(STATUS, {}, user.token)).data.me.twoFactor.locked).toBe(true);
      expect(errorCode(await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token))).toBe('TWO_FACTOR_LOCKED');
      expect((await t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token)).errors).toBeUndefined();
      expect((await t.gql(STATUS, {}, user.token)).data.me.twoFactor.locked).toBe(false);
      expect((await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token)).errors).toBeUndefined();
    });

    it('a wrong code is INVALID_CODE and audited with the client IP, never the code', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      await t.gql(VIEW, { c: '424242' }, user.token);
      const [event] = await t.sql("SELECT * FROM audit_events WHERE user_id = ? AND action = 'CODE_CHECK_FAILED'", [
        user.userId,
      ]);
      expect(event.client_ip).toBe('127.0.0.1');
      expect(JSON.stringify(event)).not.toContain('424242');
    });
  });

  describe('turning off', () => {
    it('removeTotp with a step-up: the last factor gone turns two-factor off and deletes the recovery codes', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      expect(errorCode(await t.gql(REMOVE, { c: '111111' }, user.token))).toBe('INVALID_CODE');
      const result = await t.gql(REMOVE, { c: currentTotp(t, user.secret) }, user.token);
      expect(result.data.removeTotp).toEqual({ enabled: false, methods: [], totp: null, recoveryCodesRemaining: 0 });
      expect(await t.sql('SELECT * FROM recovery_codes WHERE user_id = ?', [user.userId])).toHaveLength(0);
      expect(errorCode(await t.gql(REMOVE, { c: user.recoveryCodes[0] }, user.token))).toBe('NOT_ENROLLED');
    });

    it('disableTwoFactor with a step-up; a missing code is BAD_USER_INPUT', async () => {
      const user = await enrollTotp(t, uniqueId('u'));
      expect(errorCode(await t.gql('mutation { disableTwoFactor { enabled } }', {}, user.token))).toBe(
        'BAD_USER_INPUT',
      );
      const result = await t.gql(DISABLE, { c: user.recoveryCodes[9] }, user.token);
      expect(result.data.disableTwoFactor).toEqual({
        enabled: false,
        methods: [],
        recoveryCodesRemaining: 0,
        enabledAt: null,
      });
      const actions = (await t.sql('SELECT action FROM audit_events WHERE user_id = ? ORDER BY id', [user.userId])).map(
        (row) => row.action,
      );
      expect(actions).toEqual(['TOTP_ENABLED', 'TWO_FACTOR_ENABLED', 'RECOVERY_CODE_USED', 'TWO_FACTOR_DISABLED']);
    });

    it('step-up operations of a user without two-factor are NOT_ENROLLED', async () => {
      expect(errorCode(await t.gql(VIEW, { c: '123456' }, await freshToken(uniqueId('u'))))).toBe('NOT_ENROLLED');
    });
  });

  it('keeps no secret or recovery code in clear in the database or the logs', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    await t.gql(VIEW, { c: currentTotp(t, user.secret) }, user.token);
    const dump = JSON.stringify([
      await t.sql('SELECT * FROM totp_factors'),
      await t.sql('SELECT * FROM recovery_codes'),
      await t.sql('SELECT * FROM pending_setups'),
      await t.sql('SELECT * FROM audit_events'),
      await t.sql('SELECT * FROM users'),
    ]);
    const logs = t.logs.join('\n');
    for (const secret of [
      user.secret,
      ...user.recoveryCodes,
      ...user.recoveryCodes.map((code) => code.replace(/-/g, '')),
    ]) {
      expect(dump).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});
