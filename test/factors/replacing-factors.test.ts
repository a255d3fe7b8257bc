import { FakeSns } from '../support/fake-sns';
import { type GqlResult, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { loginRemembering, startLogin } from '../support/trusted-devices';
import { currentTotp, enrollSms, enrollTotp, nextStep } from '../support/two-factor';
import { createEndpoint, PRIVATE_WEBHOOKS, WebhookReceiver } from '../support/webhook-receiver';

/**
 * Issue 21, finding 6: replacing the authenticator app or the phone number left
 * the trusted devices working and sent no `factor.removed`. Replacing a factor
 * is removing the old one: its trusted devices are revoked and
 * `factor.removed` is sent, as for removeTotp/removeSms, then `factor.added`
 * for the new one (contract, "Second factors", "Trusted devices", "Webhooks").
 */
const ok = <T = any>(result: GqlResult<T>, what: string): T => {
  if (result.errors) throw new Error(`${what}: ${JSON.stringify(result.errors)}`);
  return result.data;
};

let phoneCounter = 0;
const newPhone = () => `+1415555${String(1000 + ((process.pid * 17 + phoneCounter++) % 9000)).padStart(4, '0')}`;

describe('replacing a factor removes the old one', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let receiver: WebhookReceiver;
  let loginService: string;
  beforeAll(async () => {
    await sns.start();
    receiver = await WebhookReceiver.start();
    t = await startTestApp({ env: { ...PRIVATE_WEBHOOKS, SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url } });
    await createEndpoint(t, receiver.url, ['factor.added', 'factor.removed']);
    loginService = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
    await receiver?.close();
  });

  /** The user's factor events in the outbox, in the order their changes committed. */
  const factorEvents = async (userId: string) =>
    (await t.sql("SELECT type, payload FROM webhook_events WHERE type LIKE 'factor.%' ORDER BY id"))
      .map((row) => ({ type: row.type as string, data: JSON.parse(row.payload).data }))
      .filter((event) => event.data.userId === userId)
      .map(({ type, data }) => ({ type, method: data.method, phoneNumberMasked: data.phoneNumberMasked }));

  const auditActions = async (userId: string) =>
    (await t.sql('SELECT action FROM audit_events WHERE user_id = ? ORDER BY id', [userId])).map((row) => row.action);

  const deviceWorks = async (userId: string, deviceToken: string) =>
    (await startLogin(t, loginService, userId, deviceToken)).assertion !== null;

  it('a new authenticator app: the trusted devices go, factor.removed (TOTP) then factor.added (TOTP)', async () => {
    const user = await enrollTotp(t, uniqueId('replace-totp'));
    const { deviceToken } = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret));
    nextStep(t);
    expect(await deviceWorks(user.userId, deviceToken!)).toBe(true);

    const { secret } = ok(
      await t.gql(
        'mutation($c: String) { startTotpSetup(code: $c) { secret } }',
        { c: currentTotp(t, user.secret) },
        user.token,
      ),
      'startTotpSetup',
    ).startTotpSetup;
    nextStep(t);
    // Started, not confirmed: nothing is replaced yet, the device still works.
    expect(await deviceWorks(user.userId, deviceToken!)).toBe(true);
    ok(
      await t.gql(
        'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
        { c: currentTotp(t, secret) },
        user.token,
      ),
      'confirmTotpSetup',
    );

    expect(await deviceWorks(user.userId, deviceToken!)).toBe(false);
    expect(await factorEvents(user.userId)).toEqual([
      { type: 'factor.added', method: 'TOTP' },
      { type: 'factor.removed', method: 'TOTP' },
      { type: 'factor.added', method: 'TOTP' },
    ]);
    const actions = await auditActions(user.userId);
    expect(actions.slice(actions.lastIndexOf('TOTP_REMOVED'))).toEqual([
      'TOTP_REMOVED',
      'TRUSTED_DEVICES_REVOKED',
      'TOTP_ENABLED',
    ]);
    // Two-factor stayed on throughout: no new recovery codes, no "disabled".
    expect(actions).not.toContain('TWO_FACTOR_DISABLED');
  });

  it('a new phone number: the trusted devices go, factor.removed shows the old number, factor.added the new', async () => {
    const oldPhone = newPhone();
    const user = await enrollSms(t, sns, uniqueId('replace-sms'), oldPhone);
    const challenge = await startLogin(t, loginService, user.userId);
    ok(
      await t.gql('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', {
        id: challenge.id,
      }),
      'send',
    );
    const remembered = ok(
      await t.gql(
        'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c, rememberDevice: true, deviceName: "Phone") { deviceToken } }',
        { id: challenge.id, c: sns.lastCodeTo(oldPhone) },
      ),
      'login',
    ).verifyLoginChallenge.deviceToken as string;
    expect(await deviceWorks(user.userId, remembered)).toBe(true);

    ok(await t.gql('mutation { sendSmsCode { phoneNumberMasked } }', {}, user.token), 'sendSmsCode');
    const newNumber = newPhone();
    ok(
      await t.gql(
        'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked } }',
        { p: newNumber, c: sns.lastCodeTo(oldPhone) },
        user.token,
      ),
      'startSmsSetup',
    );
    expect(await deviceWorks(user.userId, remembered)).toBe(true);
    ok(
      await t.gql(
        'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes } }',
        { c: sns.lastCodeTo(newNumber) },
        user.token,
      ),
      'confirmSmsSetup',
    );

    expect(await deviceWorks(user.userId, remembered)).toBe(false);
    const masked = (phone: string) => `+1 ••• ••• ${phone.slice(-4)}`;
    expect(await factorEvents(user.userId)).toEqual([
      { type: 'factor.added', method: 'SMS', phoneNumberMasked: masked(oldPhone) },
      { type: 'factor.removed', method: 'SMS', phoneNumberMasked: masked(oldPhone) },
      { type: 'factor.added', method: 'SMS', phoneNumberMasked: masked(newNumber) },
    ]);
    const actions = await auditActions(user.userId);
    expect(actions.slice(actions.lastIndexOf('SMS_REMOVED'))).toEqual([
      'SMS_REMOVED',
      'TRUSTED_DEVICES_REVOKED',
      'SMS_ENABLED',
    ]);
  });

  it('adding a first factor of another kind replaces nothing: no factor.removed, the devices stay', async () => {
    const user = await enrollTotp(t, uniqueId('replace-none'));
    const { deviceToken } = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret));
    nextStep(t);
    const phone = newPhone();
    ok(
      await t.gql(
        'mutation($p: String!, $c: String) { startSmsSetup(phoneNumber: $p, code: $c) { phoneNumberMasked } }',
        { p: phone, c: currentTotp(t, user.secret) },
        user.token,
      ),
      'startSmsSetup',
    );
    ok(
      await t.gql(
        'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes } }',
        { c: sns.lastCodeTo(phone) },
        user.token,
      ),
      'confirm',
    );
    expect(await deviceWorks(user.userId, deviceToken!)).toBe(true);
    expect((await factorEvents(user.userId)).map((event) => event.type)).toEqual(['factor.added', 'factor.added']);
  });
});
