import { errorCode, startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { currentTotp } from '../../support/two-factor';

const CONFIRM = 'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes status { enabled } } }';

/**
 * A double click on "confirm" for a brand-new user: the user's row does not
 * exist yet, so every request creates it while the others wait to lock it.
 * Creating it with a shared lock and then locking it for update deadlocked
 * (SERVICE_UNAVAILABLE, sometimes for all of them).
 */
describe("confirming a new user's first TOTP from many requests at once", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('8 parallel confirmations with the right code, 20 rounds: one success each, the rest INVALID_CODE, never SERVICE_UNAVAILABLE', async () => {
    const outcomes: string[][] = [];
    for (let round = 0; round < 20; round += 1) {
      const userId = uniqueId('double-click');
      const token = await t.token(userId, [], { authTime: t.clock.now() });
      const { secret } = (await t.gql('mutation { startTotpSetup { secret } }', {}, token)).data.startTotpSetup;
      // startTotpSetup takes the user's row lock, creating the row; without it (a setup pending from before that
      // did, or a row gone since) the confirmations race to create it.
      await t.sql('DELETE FROM users WHERE id = ?', [userId]);
      expect(await t.sql('SELECT id FROM users WHERE id = ?', [userId])).toEqual([]);
      const code = currentTotp(t, secret);
      const results = await Promise.all(Array.from({ length: 8 }, () => t.gql(CONFIRM, { c: code }, token)));
      outcomes.push(results.map((result) => (result.errors ? errorCode(result)! : 'OK')).sort());
      const [user] = await t.sql('SELECT two_factor_enabled AS enabled FROM users WHERE id = ?', [userId]);
      expect(user.enabled).toBe(1);
    }
    for (const round of outcomes) {
      expect(round.filter((outcome) => outcome === 'OK')).toHaveLength(1);
      // The code is spent: INVALID_CODE. A click the service only reads once the
      // first has committed finds no setup pending any more: NOT_FOUND, as the
      // contract says for that. Never SERVICE_UNAVAILABLE (the deadlock).
      expect(
        round.filter((outcome) => outcome !== 'OK' && outcome !== 'INVALID_CODE' && outcome !== 'NOT_FOUND'),
      ).toEqual([]);
    }
    // They did race: nearly all the others met the spent code, not a finished setup.
    expect(outcomes.flat().filter((outcome) => outcome === 'INVALID_CODE').length).toBeGreaterThanOrEqual(120);
  });
});
