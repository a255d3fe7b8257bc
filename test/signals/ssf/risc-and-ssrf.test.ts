import { syncOrganization } from '../../support/directory';
import { startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { enrollTotp } from '../../support/two-factor';
import { AUTH_ISSUER, call, CREDENTIAL_CHANGE_REQUIRED, eventOf, POLL, PUSH, ssfApp, verifySet } from './ssf-support';

const DAY = 24 * 3600 * 1000;

/**
 * RISC account-credential-change-required when an organization's requirement
 * starts to refuse a member (its grace period ended, the member's exemption
 * ended), about the member with the organization as tenant; and push endpoints
 * under the webhooks' SSRF rules.
 */
describe('Shared Signals: RISC when a requirement starts to refuse a member', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({ ...ssfApp(), manualBackgroundWork: true });
    admin = await t.token('receiver-idp', ['twofactor:admin']);
  });
  afterAll(() => t.close());

  it('sends one per refused member when the grace period ends, and one when an exemption ends', async () => {
    const org = uniqueId('org');
    const owner = uniqueId('owner');
    const member = uniqueId('member');
    const exempt = uniqueId('exempt');
    const stream = (
      await call(t, 'POST', '/ssf/streams', admin, {
        events_requested: [CREDENTIAL_CHANGE_REQUIRED],
        delivery: { method: POLL },
      })
    ).body.stream_id;
    const tenant = { format: 'complex', tenant: { format: 'opaque', id: org } };
    expect((await call(t, 'POST', '/ssf/subjects:add', admin, { stream_id: stream, subject: tenant })).status).toBe(
      200,
    );

    const enrolled = await enrollTotp(t, owner);
    await syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER', [exempt]: 'MEMBER' });
    const required = await t.gql(
      'mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 1) { id } }',
      { o: org },
      enrolled.token,
    );
    expect(required.errors).toBeUndefined();
    const exempted = await t.gql(
      'mutation($o: ID!, $u: ID!, $until: DateTimeISO!) { exemptFromTwoFactor(organizationId: $o, userId: $u, reason: "on leave", until: $until) { userId } }',
      { o: org, u: exempt, until: new Date(t.clock.now().getTime() + 10 * DAY).toISOString() },
      enrolled.token,
    );
    expect(exempted.errors).toBeUndefined();

    t.clock.advance(2 * DAY);
    await t.app.runBackgroundJobs();
    let { body } = await call(t, 'POST', `/ssf/poll/${stream}`, admin, { returnImmediately: true });
    let payloads = await Promise.all(
      Object.values(body.sets as Record<string, string>).map((set) => verifySet(t, set, 'receiver-idp')),
    );
    expect(payloads.map((payload) => [eventOf(payload).type, payload.sub_id])).toEqual([
      [
        CREDENTIAL_CHANGE_REQUIRED,
        {
          format: 'complex',
          user: { format: 'iss_sub', iss: AUTH_ISSUER, sub: member },
          tenant: { format: 'opaque', id: org },
        },
      ],
    ]);
    expect(eventOf(payloads[0]).claims).toEqual({});

    const ended = await t.gql(
      'mutation($o: ID!, $u: ID!) { endTwoFactorExemption(organizationId: $o, userId: $u) }',
      { o: org, u: exempt },
      enrolled.token,
    );
    expect(ended.errors).toBeUndefined();
    ({ body } = await call(t, 'POST', `/ssf/poll/${stream}`, admin, {
      returnImmediately: true,
      ack: Object.keys(body.sets),
    }));
    payloads = await Promise.all(
      Object.values(body.sets as Record<string, string>).map((set) => verifySet(t, set, 'receiver-idp')),
    );
    expect(payloads.map((payload) => payload.sub_id.user.sub)).toEqual([exempt]);
  });
});

describe("Shared Signals: RISC when a member's own change makes the requirement refuse it", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ssfApp());
  });
  afterAll(() => t.close());

  it("an admin's reset of a member of an organization that requires two-factor: the member, with the organization as tenant", async () => {
    const admin = await t.token('receiver-idp', ['twofactor:admin']);
    const org = uniqueId('org');
    const owner = uniqueId('owner');
    const member = uniqueId('member');
    const stream = (
      await call(t, 'POST', '/ssf/streams', admin, {
        events_requested: [CREDENTIAL_CHANGE_REQUIRED],
        delivery: { method: POLL },
      })
    ).body.stream_id;
    await call(t, 'POST', '/ssf/subjects:add', admin, {
      stream_id: stream,
      subject: { format: 'iss_sub', iss: AUTH_ISSUER, sub: member },
    });
    const enrolled = await enrollTotp(t, owner);
    await enrollTotp(t, member);
    await syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' });
    const required = await t.gql(
      'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }',
      { o: org },
      enrolled.token,
    );
    expect(required.errors).toBeUndefined();
    const reset = await t.gql(
      'mutation($u: ID!) { resetTwoFactor(userId: $u, reason: "lost phone") { enabled } }',
      { u: member },
      admin,
    );
    expect(reset.errors).toBeUndefined();
    const { body } = await call(t, 'POST', `/ssf/poll/${stream}`, admin, { returnImmediately: true });
    const payloads = await Promise.all(
      Object.values(body.sets as Record<string, string>).map((set) => verifySet(t, set, 'receiver-idp')),
    );
    expect(payloads.map((payload) => [eventOf(payload).type, payload.sub_id])).toEqual([
      [
        CREDENTIAL_CHANGE_REQUIRED,
        {
          format: 'complex',
          user: { format: 'iss_sub', iss: AUTH_ISSUER, sub: member },
          tenant: { format: 'opaque', id: org },
        },
      ],
    ]);
  });
});

describe('Shared Signals: push endpoints under the SSRF rules', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      env: { SSF_ISSUER: 'https://ssf.twofactor.test' },
      webhooks: {
        resolve: async (host) =>
          host === 'rebind.example.com'
            ? [{ address: '127.0.0.1', family: 4 }]
            : [{ address: '93.184.215.14', family: 4 }],
      },
    });
  });
  afterAll(() => t.close());

  it('refuses a push endpoint at a private or loopback address, or over http', async () => {
    const admin = await t.token('receiver-idp', ['twofactor:admin']);
    for (const url of [
      'https://127.0.0.1/events',
      'https://10.1.2.3/events',
      'https://[::1]/events',
      'https://169.254.169.254/latest',
      'https://rebind.example.com/events',
      'http://receiver.example.com/events',
    ]) {
      const refused = await call(t, 'POST', '/ssf/streams', admin, { delivery: { method: PUSH, endpoint_url: url } });
      expect([url, refused.status]).toEqual([url, 400]);
    }
    const accepted = await call(t, 'POST', '/ssf/streams', admin, {
      delivery: { method: PUSH, endpoint_url: 'https://receiver.example.com/events' },
    });
    expect(accepted.status).toBe(201);
    const moved = await call(t, 'PATCH', '/ssf/streams', admin, {
      stream_id: accepted.body.stream_id,
      delivery: { method: PUSH, endpoint_url: 'https://10.0.0.8/events' },
    });
    expect(moved.status).toBe(400);
  });
});
