import { FakeSns } from '../support/fake-sns';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp } from '../support/two-factor';

/** Setup confirmations racing, run many times; the invariants are checked after each round. */
describe('races between setup confirmations', () => {
  const sns = new FakeSns();
  let t: TestApp;
  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url } });
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  const invariants = async (userId: string) => {
    const [user] = await t.sql('SELECT two_factor_enabled AS enabled FROM users WHERE id = ?', [userId]);
    const [codes] = await t.sql('SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ?', [userId]);
    const [enabledEvents] = await t.sql(
      "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND action = 'TWO_FACTOR_ENABLED'",
      [userId],
    );
    return { enabled: user.enabled, recoveryCodes: Number(codes.n), enabledEvents: Number(enabledEvents.n) };
  };

  it('one TOTP setup confirmed by 10 parallel requests: one success, one set of recovery codes', async () => {
    for (let round = 0; round < 8; round += 1) {
      const userId = uniqueId('race-totp');
      const token = await t.token(userId, [], { authTime: t.clock.now() });
      const { secret } = (await t.gql('mutation { startTotpSetup { secret } }', {}, token)).data.startTotpSetup;
      const code = currentTotp(t, secret);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.gql('mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }', { c: code }, token),
        ),
      );
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      expect(await invariants(userId)).toEqual({ enabled: 1, recoveryCodes: 10, enabledEvents: 1 });
    }
  });

  it('TOTP and SMS confirmed at once as the first factors: two-factor turns on once, the other setup is discarded', async () => {
    for (let round = 0; round < 8; round += 1) {
      const userId = uniqueId('race-both');
      const phone = `+1415555${String(2000 + round + (process.pid % 1000) * 8)
        .padStart(4, '0')
        .slice(-4)}`;
      const token = await t.token(userId, [], { authTime: t.clock.now() });
      const { secret } = (await t.gql('mutation { startTotpSetup { secret } }', {}, token)).data.startTotpSetup;
      expect(
        (
          await t.gql(
            'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }',
            { p: phone },
            token,
          )
        ).errors,
      ).toBeUndefined();
      const [totp, sms] = await Promise.all([
        t.gql(
          'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes status { enabled } } }',
          { c: currentTotp(t, secret) },
          token,
        ),
        t.gql(
          'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes status { enabled } } }',
          { c: sns.lastCodeTo(phone) },
          token,
        ),
      ]);
      // Exactly one of the two turned two-factor on and showed the codes; that discarded the other
      // setup, started without a step-up (contract: "Second factors"), which is then NOT_FOUND.
      const outcomes = [totp, sms].map((result) => (result.errors ? result.errors[0].extensions?.code : 'OK'));
      expect(outcomes.sort()).toEqual(['NOT_FOUND', 'OK']);
      const winner = totp.errors ? sms.data.confirmSmsSetup : totp.data.confirmTotpSetup;
      expect(winner.recoveryCodes).toHaveLength(10);
      expect(await invariants(userId)).toEqual({ enabled: 1, recoveryCodes: 10, enabledEvents: 1 });
      const methods = (await t.gql('{ me { twoFactor { methods } } }', {}, token)).data.me.twoFactor.methods;
      expect(methods).toEqual([totp.errors ? 'SMS' : 'TOTP']);
      expect(await t.sql('SELECT method FROM pending_setups WHERE user_id = ?', [userId])).toEqual([]);
      t.clock.advance(60_000);
    }
  });

  it('a replacement authenticator confirmed while the old one disables two-factor: never half-done', async () => {
    for (let round = 0; round < 8; round += 1) {
      const user = await enrollTotp(t, uniqueId('race-replace'));
      const { secret } = (
        await t.gql(
          'mutation($c: String!) { startTotpSetup(code: $c) { secret } }',
          { c: user.recoveryCodes[0] },
          user.token,
        )
      ).data.startTotpSetup;
      await Promise.all([
        t.gql(
          'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
          { c: currentTotp(t, secret) },
          user.token,
        ),
        t.gql(
          'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
          { c: user.recoveryCodes[1] },
          user.token,
        ),
      ]);
      const state = await invariants(user.userId);
      const [factors] = await t.sql('SELECT COUNT(*) AS n FROM totp_factors WHERE user_id = ?', [user.userId]);
      // On: a factor and ten codes. Off: neither.
      if (state.enabled)
        expect({ factors: Number(factors.n), codes: state.recoveryCodes }).toEqual({ factors: 1, codes: 10 });
      else expect({ factors: Number(factors.n), codes: state.recoveryCodes }).toEqual({ factors: 0, codes: 0 });
      t.clock.advance(60_000);
    }
  });
});
