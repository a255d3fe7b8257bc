import { enrollTotp, currentTotp, nextStep } from '../../support/two-factor';
import { startTestApp, type TestApp, uniqueId, errorCode } from '../../support/test-app';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(() => t.close());
  it('enrolls, views, disables', async () => {
    const user = await enrollTotp(t, uniqueId('u'));
    expect(user.recoveryCodes).toHaveLength(10);
    const view = await t.gql('mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code usedAt } generatedAt } }', { c: currentTotp(t, user.secret) }, user.token);
    expect(view.errors).toBeUndefined();
    const again = await t.gql('mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }', { c: currentTotp(t, user.secret) }, user.token);
    expect(errorCode(again)).toBe('INVALID_CODE');
    nextStep(t);
    const off = await t.gql('mutation($c: String!) { disableTwoFactor(code: $c) { enabled methods recoveryCodesRemaining } }', { c: user.recoveryCodes[0] }, user.token);
    expect(off.data.disableTwoFactor).toEqual({ enabled: false, methods: [], recoveryCodesRemaining: 0 });
  });
});
