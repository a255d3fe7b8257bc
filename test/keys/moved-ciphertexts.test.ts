import { eventually } from '../support/eventually';
import { FakeSns } from '../support/fake-sns';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { startLogin } from '../support/trusted-devices';
import { currentTotp, enrollSms, enrollTotp, nextStep, uniqueMobileNumber } from '../support/two-factor';
import {
  createEndpoint,
  deliveriesOf,
  PRIVATE_WEBHOOKS,
  recordAudited,
  settled,
  WebhookReceiver,
} from '../support/webhook-receiver';

const VERIFY = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method } }';
const SEND = 'mutation { sendSmsCode { phoneNumberMasked } }';
const VIEW = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code } } }';
const CONFIRM_TOTP = 'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }';

/**
 * Whoever can write to the database copies a secret from one row to another:
 * the value is sealed to its row (associated data), so it does not decrypt
 * there. It is never used: the answer fails as a wrong one, nothing is sent,
 * the caller gets the operation's typed error (never a 5xx), and the refusal
 * is audited as CIPHERTEXT_REFUSED for the row's user.
 */
describe('a ciphertext moved to another row', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let loginService: string;

  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ env: { SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url, ...PRIVATE_WEBHOOKS } });
    loginService = await t.token('login-service', ['twofactor:login']);
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
  });

  const refusalsOf = async (userId: string) =>
    (
      await t.sql('SELECT reason FROM audit_events WHERE action = ? AND user_id = ?', ['CIPHERTEXT_REFUSED', userId])
    ).map((row) => String(row.reason));

  it("does not let Mallory's TOTP secret answer for Alice", async () => {
    const alice = await enrollTotp(t, uniqueId('alice'));
    const mallory = await enrollTotp(t, uniqueId('mallory'));
    await t.sql(
      'UPDATE totp_factors SET secret_ciphertext = (SELECT c FROM (SELECT secret_ciphertext AS c FROM totp_factors WHERE user_id = ?) m) WHERE user_id = ?',
      [mallory.userId, alice.userId],
    );
    const challenge = await startLogin(t, loginService, alice.userId);
    const answer = await t.gql(VERIFY, { id: challenge.id, c: currentTotp(t, mallory.secret) });
    expect(answer.status).toBe(200);
    expect(errorCode(answer)).toBe('INVALID_CODE');
    // Nor does Alice's own authenticator: her row no longer holds her secret.
    nextStep(t);
    const again = await startLogin(t, loginService, alice.userId);
    expect(errorCode(await t.gql(VERIFY, { id: again.id, c: currentTotp(t, alice.secret) }))).toBe('INVALID_CODE');
    await eventually(async () => (await refusalsOf(alice.userId)).length > 0);
    const [reason] = await refusalsOf(alice.userId);
    expect(reason).toMatch(/^totp-secret: does not open for this row/);
    expect(reason).not.toContain(mallory.secret);
    // Refused on every read, audited once an interval: no storm of audit rows.
    expect(await refusalsOf(alice.userId)).toHaveLength(1);
    expect(t.logs.join('\n')).toContain('a stored secret was refused');
  });

  it("sends no SMS to Mallory's number when Alice asks for a code", async () => {
    const alice = await enrollSms(t, sns, uniqueId('alice'), uniqueMobileNumber());
    const mallory = await enrollSms(t, sns, uniqueId('mallory'), uniqueMobileNumber());
    await t.sql(
      'UPDATE sms_factors SET phone_ciphertext = (SELECT c FROM (SELECT phone_ciphertext AS c FROM sms_factors WHERE user_id = ?) m) WHERE user_id = ?',
      [mallory.userId, alice.userId],
    );
    const sent = sns.published.length;
    const result = await t.gql(SEND, {}, alice.token);
    expect(result.status).toBe(200);
    expect(errorCode(result)).toBe('SMS_DELIVERY_FAILED');
    expect(sns.published).toHaveLength(sent);
    await eventually(async () => (await refusalsOf(alice.userId)).length > 0);
    expect((await refusalsOf(alice.userId))[0]).toMatch(/^sms-phone: /);
  });

  it("does not show Alice's recovery codes in another row's place", async () => {
    const alice = await enrollTotp(t, uniqueId('alice'));
    // Her own first code, copied over her second: same user, another row.
    await t.sql(
      'UPDATE recovery_codes SET code_ciphertext = (SELECT c FROM (SELECT code_ciphertext AS c FROM recovery_codes WHERE user_id = ? AND position = 0) m) WHERE user_id = ? AND position = 1',
      [alice.userId, alice.userId],
    );
    const result = await t.gql(VIEW, { c: currentTotp(t, alice.secret) }, alice.token);
    expect(result.status).toBe(200);
    expect(errorCode(result)).toBe('NOT_FOUND');
    expect(result.errors![0].message).toContain('regenerate');
    await eventually(async () => (await refusalsOf(alice.userId)).length > 0);
    expect((await refusalsOf(alice.userId))[0]).toMatch(/^recovery-code: /);
  });

  it("does not confirm a setup with a pending secret copied from another user's setup", async () => {
    const aliceId = uniqueId('alice');
    const malloryId = uniqueId('mallory');
    const start = async (userId: string) => {
      const token = await t.token(userId, [], { authTime: t.clock.now() });
      const started = await t.gql('mutation { startTotpSetup { secret } }', {}, token);
      return { token, secret: started.data.startTotpSetup.secret as string };
    };
    const alice = await start(aliceId);
    const mallory = await start(malloryId);
    await t.sql(
      "UPDATE pending_setups SET payload_ciphertext = (SELECT c FROM (SELECT payload_ciphertext AS c FROM pending_setups WHERE user_id = ? AND method = 'TOTP') m) WHERE user_id = ? AND method = 'TOTP'",
      [malloryId, aliceId],
    );
    const result = await t.gql(CONFIRM_TOTP, { c: currentTotp(t, mallory.secret) }, alice.token);
    expect(errorCode(result)).toBe('NOT_FOUND');
    expect((await t.sql('SELECT COUNT(*) AS n FROM totp_factors WHERE user_id = ?', [aliceId]))[0].n).toBe(0);
    await eventually(async () => (await refusalsOf(aliceId)).length > 0);
    expect((await refusalsOf(aliceId))[0]).toMatch(/^pending-setup: /);
  });

  it('keeps its ciphertexts bound after setup: the confirmed secret is sealed to its own row', async () => {
    const user = await enrollTotp(t, uniqueId('bound'));
    const [row] = await t.sql('SELECT secret_ciphertext FROM totp_factors WHERE user_id = ?', [user.userId]);
    expect(String(row.secret_ciphertext)).toMatch(/^v2\.0\./);
    const challenge = await startLogin(t, loginService, user.userId);
    expect(
      (await t.gql(VERIFY, { id: challenge.id, c: currentTotp(t, user.secret) })).data.verifyLoginChallenge,
    ).toEqual({
      method: 'TOTP',
    });
  });

  it("signs nothing with another endpoint's webhook secret copied into an endpoint's row", async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const a = await createEndpoint(t, `${receiver.url}/a`);
      const b = await createEndpoint(t, `${receiver.url}/b`);
      await t.sql(
        'UPDATE webhook_endpoints SET secret_ciphertext = (SELECT c FROM (SELECT secret_ciphertext AS c FROM webhook_endpoints WHERE id = ?) m) WHERE id = ?',
        [b.id, a.id],
      );
      await recordAudited(t, 'LOGIN_FAILED', uniqueId('someone'));
      await settled(t);
      expect(receiver.received.filter((request) => request.path === '/hooks/a')).toEqual([]);
      expect(receiver.received.filter((request) => request.path === '/hooks/b')).toHaveLength(1);
      const [delivery] = await deliveriesOf(t, a.id, a.admin);
      expect(delivery).toMatchObject({ state: 'PENDING', lastError: 'the signing secret cannot be decrypted' });
      await eventually(
        async () =>
          (
            await t.sql(
              "SELECT id FROM audit_events WHERE action = 'CIPHERTEXT_REFUSED' AND reason LIKE 'webhook-secret:%'",
            )
          ).length > 0,
      );
      for (const endpoint of [a, b])
        await t.gql('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: endpoint.id }, endpoint.admin);
    } finally {
      await receiver.close();
    }
  });
});
