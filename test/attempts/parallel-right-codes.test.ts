import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method } }';

/**
 * The contract: attempts count before they are checked, so parallel requests
 * with the right code for one user get one success; the others are INVALID_CODE
 * (the code is spent) or RATE_LIMITED. (Confirmations: test/factors/totp/confirm-race.test.ts.)
 */
describe('parallel requests with the right code', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  const outcomes = (results: Awaited<ReturnType<TestApp['gql']>>[]) =>
    results.map((result) => (result.errors ? errorCode(result)! : 'OK'));
  const expectOneSuccess = (codes: string[], others: string[]) => {
    expect(codes.filter((code) => code === 'OK')).toHaveLength(1);
    for (const code of codes.filter((code) => code !== 'OK')) expect(others).toContain(code);
  };

  it('a step-up TOTP code sent 8 times at once: one success', async () => {
    for (let round = 0; round < 5; round += 1) {
      const user = await enrollTotp(t, uniqueId('parallel-totp'));
      const code = currentTotp(t, user.secret);
      expectOneSuccess(
        outcomes(await Promise.all(Array.from({ length: 8 }, () => t.gql(VIEW, { c: code }, user.token)))),
        ['INVALID_CODE', 'RATE_LIMITED'],
      );
      nextStep(t);
    }
  });

  it('one recovery code sent 8 times at once: one success, and it is used', async () => {
    const user = await enrollTotp(t, uniqueId('parallel-recovery'));
    expectOneSuccess(
      outcomes(
        await Promise.all(Array.from({ length: 8 }, () => t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token))),
      ),
      ['INVALID_CODE', 'RATE_LIMITED'],
    );
    expect(errorCode(await t.gql(VIEW, { c: user.recoveryCodes[0] }, user.token))).toBe('INVALID_CODE');
  });

  it('a login challenge answered 8 times at once: one assertion; the others find the challenge spent (or the code)', async () => {
    const user = await enrollTotp(t, uniqueId('parallel-login'));
    const loginService = await t.token('login-service', ['twofactor:login']);
    const challenge = (
      await t.gql('mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }', { u: user.userId }, loginService)
    ).data.startLoginChallenge;
    const code = currentTotp(t, user.secret);
    const results = await Promise.all(Array.from({ length: 8 }, () => t.gql(VERIFY, { id: challenge.id, c: code })));
    expectOneSuccess(outcomes(results), ['INVALID_CODE', 'RATE_LIMITED', 'CHALLENGE_NOT_FOUND']);
  });
});
