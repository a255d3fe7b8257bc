import { FakeSns } from '../support/fake-sns';
import { startTestApp, type TestApp } from '../support/test-app';
import { currentTotp, enrollSms, enrollTotp, nextStep } from '../support/two-factor';
import { createEndpoint, PRIVATE_WEBHOOKS, settled, WebhookReceiver } from '../support/webhook-receiver';

const PHONE = '+14155550123';

/**
 * Every event type this service sends, from real flows, then every body scanned:
 * no code, secret, token, whole phone number or recovery code. Ids here hold no
 * digits, so any run of six digits in a body would be a code.
 */
describe('webhooks: what payloads hold', () => {
  const sns = new FakeSns();
  let t: TestApp;
  let receiver: WebhookReceiver;
  /** Everything that must never appear in a payload. */
  const secrets = new Set<string>();

  beforeAll(async () => {
    await sns.start();
    t = await startTestApp({ env: { ...PRIVATE_WEBHOOKS, SMS_PROVIDER: 'sns', SNS_ENDPOINT: sns.url } });
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await t?.close();
    await sns.stop();
    await receiver?.close();
  });

  const gql = async (query: string, variables: Record<string, unknown>, token?: string) => {
    const result = await t.gql(query, variables, token);
    if (result.errors && !query.includes('verifyLoginChallenge'))
      throw new Error(`${query}: ${JSON.stringify(result.errors)}`);
    return result;
  };

  it('carries ids, methods, masked numbers, the actor and its address, the time; never a secret', async () => {
    const endpoint = await createEndpoint(t, receiver.url);
    secrets.add(endpoint.secret).add(endpoint.admin);
    const suffix = Math.random()
      .toString(36)
      .replace(/[^a-z]/g, '')
      .slice(0, 8);
    const userId = `alice-${suffix}`;
    const orgId = `acme-${suffix}`;

    // SMS, then TOTP behind an SMS step-up code: factor.added twice, two_factor.enabled once.
    const sms = await enrollSms(t, sns, userId, PHONE);
    sms.recoveryCodes.forEach((code) => secrets.add(code));
    const token = await t.token(userId, [], { authTime: t.clock.now() });
    secrets.add(token);
    await gql('mutation { sendSmsCode { phoneNumberMasked } }', {}, token);
    const started = await gql(
      'mutation($c: String) { startTotpSetup(code: $c) { secret } }',
      { c: sns.lastCodeTo(PHONE) },
      token,
    );
    const user = { token, secret: started.data.startTotpSetup.secret as string };
    secrets.add(user.secret);
    await gql(
      'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }',
      { c: currentTotp(t, user.secret) },
      token,
    );
    nextStep(t);

    // Step-ups with TOTP codes: recovery codes viewed, then regenerated.
    const viewed = await gql(
      'mutation($c: String!) { viewRecoveryCodes(code: $c) { codes { code } } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );
    viewed.data.viewRecoveryCodes.codes.forEach(({ code }: { code: string }) => secrets.add(code));
    nextStep(t);
    const regenerated = await gql(
      'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { codes { code } } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );
    const fresh: string[] = regenerated.data.regenerateRecoveryCodes.codes.map(({ code }: { code: string }) => code);
    fresh.forEach((code) => secrets.add(code));

    // Logins: by SMS, by recovery code, and a wrong code.
    const loginService = await t.token('login-svc', ['twofactor:login']);
    secrets.add(loginService);
    const challenge = async () =>
      (await gql('mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }', { u: userId }, loginService)).data
        .startLoginChallenge.id as string;
    const verify = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { assertion } }';
    const bySms = await challenge();
    secrets.add(bySms);
    await gql('mutation($id: ID!) { sendLoginSmsCode(challengeId: $id) { phoneNumberMasked } }', { id: bySms });
    secrets.add((await gql(verify, { id: bySms, c: sns.lastCodeTo(PHONE) })).data.verifyLoginChallenge.assertion);
    const byRecovery = await challenge();
    secrets.add(byRecovery);
    secrets.add((await gql(verify, { id: byRecovery, c: fresh[0] })).data.verifyLoginChallenge.assertion);
    const failing = await challenge();
    secrets.add(failing);
    await gql(verify, { id: failing, c: '000000' });

    // An organization that requires two-factor; the user removes SMS, then turns two-factor off after the policy stops.
    const directory = await t.token('directory-sync', ['twofactor:directory']);
    await gql('mutation($o: ID!) { upsertOrganization(id: $o, name: "Acme") { id } }', { o: orgId }, directory);
    await gql(
      'mutation($o: ID!, $u: ID!) { setMembership(organizationId: $o, userId: $u, role: OWNER) { role } }',
      { o: orgId, u: userId },
      directory,
    );
    await gql(
      'mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 2) { id } }',
      { o: orgId },
      user.token,
    );
    nextStep(t);
    await gql(
      'mutation($c: String!) { removeSms(code: $c) { enabled } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );
    await gql('mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }', { o: orgId }, user.token);
    nextStep(t);
    await gql(
      'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );

    // An admin's reset, with a reason that holds what looks like a code and a number.
    const other = await enrollTotp(t, `bob-${suffix}`);
    secrets.add(other.secret).add(other.token);
    const admin = await t.token('support', ['twofactor:admin']);
    const reason = 'caller read 424242 from +14155550199 to us';
    await gql(
      'mutation($u: ID!, $r: String!) { resetTwoFactor(userId: $u, reason: $r) { enabled } }',
      { u: other.userId, r: reason },
      admin,
    );
    secrets.add('424242').add('+14155550199');

    for (const { code } of sns.published) secrets.add(code);
    secrets.add(PHONE).add(PHONE.slice(1)).add(PHONE.slice(2));
    for (const value of [...secrets])
      if (/-/.test(value) && /^[A-Z2-7-]+$/.test(value)) secrets.add(value.replace(/-/g, ''));

    const expected = [
      'factor.added',
      'two_factor.enabled',
      'recovery_codes.viewed',
      'recovery_codes.regenerated',
      'login.verified',
      'recovery_code.used',
      'login.failed',
      'organization.policy_changed',
      'factor.removed',
      'two_factor.disabled',
      'two_factor.reset',
    ];
    await settled(t);
    const types = new Set(receiver.received.map((request) => request.event.type));
    expect(expected.filter((type) => !types.has(type))).toEqual([]);

    const smsAdded = receiver.received.find(
      (request) => request.event.type === 'factor.added' && request.event.data.method === 'SMS',
    )!;
    const smsRemoved = receiver.received.find(
      (request) => request.event.type === 'factor.removed' && request.event.data.method === 'SMS',
    )!;
    expect(smsAdded.event.data.phoneNumberMasked).toMatch(/•/);
    expect(smsRemoved.event.data.phoneNumberMasked).toBe(smsAdded.event.data.phoneNumberMasked);
    const logins = receiver.ofType('login.verified').map((request) => request.event.data.method);
    expect(logins.sort()).toEqual(['RECOVERY_CODE', 'SMS']);

    const problems: string[] = [];
    for (const request of receiver.received) {
      for (const value of secrets)
        if (request.body.includes(value)) problems.push(`${request.event.type} holds ${value}`);
      for (const pattern of [/\d{6}/, /whsec_/, /eyJ[\w-]{8,}/, /[A-Z2-7]{5}-[A-Z2-7]{5}/, /\+\d{7,}/]) {
        if (pattern.test(request.body)) problems.push(`${request.event.type} matches ${pattern}: ${request.body}`);
      }
      expect(Object.keys(request.event).sort()).toEqual(['data', 'timestamp', 'type']);
    }
    expect(problems).toEqual([]);
  }, 60_000);
});
