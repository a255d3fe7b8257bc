import { eventually } from '../../support/eventually';
import { startTestApp, type TestApp, uniqueId } from '../../support/test-app';
import { loginRemembering } from '../../support/trusted-devices';
import { currentTotp, enrollTotp } from '../../support/two-factor';
import {
  ALL_EVENTS,
  ASSURANCE_LEVEL_CHANGE,
  AUTH_ISSUER,
  call,
  CREDENTIAL_CHANGE,
  eventOf,
  POLL,
  PUSH,
  SESSION_REVOKED,
  SetReceiver,
  ssfApp,
  VERIFICATION,
  verifySet,
} from './ssf-support';

/**
 * Security Event Tokens from the outbox to receivers (contract: README.md,
 * "Security signals"): pushed (RFC 8935) to a receiver on loopback, or polled
 * (RFC 8936); each verified against the JWKS; only the subjects added; a paused
 * stream holds its events; a disabled one drops them.
 */
describe('Shared Signals: delivery and mapping', () => {
  let t: TestApp;
  let admin: string;
  let receiver: SetReceiver;

  beforeAll(async () => {
    t = await startTestApp(ssfApp());
    admin = await t.token('receiver-idp', ['twofactor:admin']);
    receiver = await SetReceiver.start();
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  async function pushStream(events = ALL_EVENTS): Promise<string> {
    const created = await call(t, 'POST', '/ssf/streams', admin, {
      events_requested: events,
      delivery: { method: PUSH, endpoint_url: receiver.url },
    });
    expect(created.status).toBe(201);
    return created.body.stream_id;
  }
  async function pollStream(events = ALL_EVENTS): Promise<string> {
    const created = await call(t, 'POST', '/ssf/streams', admin, {
      events_requested: events,
      delivery: { method: POLL },
    });
    expect(created.status).toBe(201);
    return created.body.stream_id;
  }
  const addUser = async (stream_id: string, userId: string) =>
    expect(
      (
        await call(t, 'POST', '/ssf/subjects:add', admin, {
          stream_id,
          subject: { format: 'iss_sub', iss: AUTH_ISSUER, sub: userId },
        })
      ).status,
    ).toBe(200);
  const poll = (stream_id: string, body: Record<string, unknown> = { returnImmediately: true }) =>
    call(t, 'POST', `/ssf/poll/${stream_id}`, admin, body);

  /** Every SET the receiver got about `userId`, verified, oldest first. */
  async function pushedAbout(userId: string) {
    const payloads = await Promise.all(receiver.received.map(({ set }) => verifySet(t, set, 'receiver-idp')));
    return payloads.filter((payload) => payload.sub_id?.sub === userId || payload.sub_id?.user?.sub === userId);
  }

  it('pushes a verified SET for a factor added and two-factor turned on, as application/secevent+jwt', async () => {
    const stream = await pushStream();
    const user = uniqueId('alice');
    await addUser(stream, user);
    await enrollTotp(t, user);
    await eventually(async () => (await pushedAbout(user)).length >= 2);
    const sets = await pushedAbout(user);
    expect(receiver.received.every((request) => request.contentType === 'application/secevent+jwt')).toBe(true);
    expect(sets.map(eventOf)).toEqual([
      {
        type: CREDENTIAL_CHANGE,
        claims: {
          credential_type: 'app',
          change_type: 'create',
          event_timestamp: expect.any(Number),
          initiating_entity: 'user',
        },
      },
      {
        type: ASSURANCE_LEVEL_CHANGE,
        claims: {
          namespace: 'NIST-AAL',
          current_level: 'nist-aal2',
          previous_level: 'nist-aal1',
          change_direction: 'increase',
          event_timestamp: expect.any(Number),
          initiating_entity: 'user',
        },
      },
    ]);
    expect(sets[0]).toMatchObject({
      iss: 'https://ssf.twofactor.test',
      aud: 'receiver-idp',
      sub_id: { format: 'iss_sub', iss: AUTH_ISSUER, sub: user },
    });
    expect(typeof sets[0].jti).toBe('string');
    expect(sets[0].jti).not.toEqual(sets[1].jti);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it('never sends events about subjects not added', async () => {
    const stream = await pollStream();
    const added = uniqueId('added');
    const other = uniqueId('other');
    await addUser(stream, added);
    await enrollTotp(t, other);
    await enrollTotp(t, added);
    const { body } = await poll(stream, { returnImmediately: true, maxEvents: 100 });
    const subjects = await Promise.all(
      Object.values(body.sets as Record<string, string>).map(
        async (set) => (await verifySet(t, set, 'receiver-idp')).sub_id.sub,
      ),
    );
    expect(subjects.length).toBeGreaterThan(0);
    expect(new Set(subjects)).toEqual(new Set([added]));
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it('sends every subject to a stream that asked for all with twofactor:read', async () => {
    const both = await t.token('receiver-idp', ['twofactor:admin', 'twofactor:read']);
    const created = await call(t, 'POST', '/ssf/streams', both, {
      events_requested: [CREDENTIAL_CHANGE],
      delivery: { method: POLL },
      all_subjects: true,
    });
    const user = uniqueId('anyone');
    await enrollTotp(t, user);
    const { body } = await poll(created.body.stream_id, { returnImmediately: true, maxEvents: 1000 });
    const payloads = await Promise.all(
      Object.values(body.sets as Record<string, string>).map((set) => verifySet(t, set, 'receiver-idp')),
    );
    expect(payloads.some((payload) => payload.sub_id.sub === user)).toBe(true);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${created.body.stream_id}`, admin);
  });

  it('polls with maxEvents and acknowledgements: an acknowledged SET is not returned again', async () => {
    const stream = await pollStream();
    const user = uniqueId('poller');
    await addUser(stream, user);
    await enrollTotp(t, user);
    const first = await poll(stream, { returnImmediately: true, maxEvents: 1 });
    expect(first.status).toBe(200);
    const [jti] = Object.keys(first.body.sets);
    expect(Object.keys(first.body.sets)).toHaveLength(1);
    expect(first.body.moreAvailable).toBe(true);
    // Not acknowledged: returned again.
    expect(Object.keys((await poll(stream, { returnImmediately: true, maxEvents: 1 })).body.sets)).toEqual([jti]);
    const second = await poll(stream, { ack: [jti], returnImmediately: true, maxEvents: 10 });
    expect(Object.keys(second.body.sets)).toHaveLength(1);
    expect(Object.keys(second.body.sets)).not.toContain(jti);
    expect(second.body.moreAvailable).toBe(false);
    const [next] = Object.keys(second.body.sets);
    const last = await poll(stream, { ack: [next], returnImmediately: true });
    expect(last.body).toEqual({ sets: {}, moreAvailable: false });
    expect((await poll(stream, { maxEvents: -1 })).status).toBe(400);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it('a long poll returns as soon as an event is there', async () => {
    const stream = await pollStream();
    const user = uniqueId('waiter');
    await addUser(stream, user);
    const waiting = poll(stream, { maxEvents: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await enrollTotp(t, user);
    const { body } = await waiting;
    expect(Object.keys(body.sets).length).toBeGreaterThan(0);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it("holds a paused stream's events and delivers every one when enabled again; a disabled one drops them", async () => {
    const stream = await pollStream();
    const users = [uniqueId('held'), uniqueId('held'), uniqueId('held')];
    for (const user of users) await addUser(stream, user);
    await call(t, 'POST', '/ssf/status', admin, { stream_id: stream, status: 'paused' });
    for (const user of users) await enrollTotp(t, user);
    expect((await poll(stream)).body).toEqual({ sets: {}, moreAvailable: false });
    await call(t, 'POST', '/ssf/status', admin, { stream_id: stream, status: 'enabled' });
    const { body } = await poll(stream, { returnImmediately: true, maxEvents: 100 });
    const payloads = await Promise.all(
      Object.values(body.sets as Record<string, string>).map((set) => verifySet(t, set, 'receiver-idp')),
    );
    // Each user: credential-change and assurance-level-change, none lost.
    for (const user of users) {
      expect(payloads.filter((payload) => payload.sub_id.sub === user).map((payload) => eventOf(payload).type)).toEqual(
        [CREDENTIAL_CHANGE, ASSURANCE_LEVEL_CHANGE],
      );
    }

    await call(t, 'POST', '/ssf/status', admin, { stream_id: stream, status: 'disabled' });
    const dropped = uniqueId('dropped');
    await addUser(stream, dropped);
    await enrollTotp(t, dropped);
    await call(t, 'POST', '/ssf/status', admin, { stream_id: stream, status: 'enabled' });
    expect((await poll(stream)).body).toEqual({ sets: {}, moreAvailable: false });
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it("pushes a paused stream's events once enabled, and retries a receiver that failed", async () => {
    const stream = await pushStream([ASSURANCE_LEVEL_CHANGE]);
    const user = uniqueId('retried');
    await addUser(stream, user);
    await call(t, 'POST', '/ssf/status', admin, { stream_id: stream, status: 'paused' });
    await enrollTotp(t, user);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pushedAbout(user)).toEqual([]);
    receiver.status = 503;
    await call(t, 'POST', '/ssf/status', admin, { stream_id: stream, status: 'enabled' });
    // The first attempt fails; the schedule's next (about 5 s later) succeeds.
    await eventually(
      async () =>
        (await t.sql('SELECT attempts FROM ssf_queued_events WHERE stream_id = ?', [stream]))[0]?.attempts === 1,
    );
    receiver.status = 202;
    t.clock.advance(10_000);
    await eventually(async () => (await pushedAbout(user)).length === 1);
    expect(eventOf((await pushedAbout(user))[0]).type).toBe(ASSURANCE_LEVEL_CHANGE);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it('maps two-factor turned off, an admin reset and trusted devices revoked; never a recovery code', async () => {
    const stream = await pollStream();
    const user = uniqueId('mapped');
    await addUser(stream, user);
    const enrolled = await enrollTotp(t, user);
    const loginService = await t.token('login-service', ['twofactor:login']);
    await loginRemembering(t, loginService, user, currentTotp(t, enrolled.secret));
    t.clock.advance(30_000);
    // Recovery codes regenerated: webhooks only.
    const regenerated = await t.gql(
      'mutation($c: String!) { regenerateRecoveryCodes(code: $c) { codes { code } } }',
      { c: currentTotp(t, enrolled.secret) },
      await t.token(user, [], { authTime: t.clock.now() }),
    );
    t.clock.advance(30_000);
    const support = await t.token('support', ['twofactor:admin']);
    const reset = await t.gql(
      'mutation($u: ID!) { resetTwoFactor(userId: $u, reason: "lost phone 555-0100") { enabled } }',
      { u: user },
      support,
    );
    expect(reset.errors).toBeUndefined();
    const { body } = await poll(stream, { returnImmediately: true, maxEvents: 100 });
    const sets = Object.values(body.sets as Record<string, string>);
    const events = (await Promise.all(sets.map((set) => verifySet(t, set, 'receiver-idp')))).map(eventOf);
    const credentialTypes = events.filter((e) => e.type === CREDENTIAL_CHANGE).map((e) => e.claims.credential_type);
    expect(
      credentialTypes.every((type) => ['app', 'phone-sms', 'fido2-roaming', 'fido2-platform'].includes(String(type))),
    ).toBe(true);
    expect(events.filter((e) => e.type === CREDENTIAL_CHANGE).map((e) => e.claims.change_type)).toEqual([
      'create',
      'revoke',
    ]);
    expect(
      events.find((e) => e.type === CREDENTIAL_CHANGE && e.claims.change_type === 'revoke')?.claims.initiating_entity,
    ).toBe('admin');
    expect(events.filter((e) => e.type === ASSURANCE_LEVEL_CHANGE).map((e) => e.claims.change_direction)).toEqual([
      'increase',
      'decrease',
    ]);
    expect(events.filter((e) => e.type === SESSION_REVOKED)).toHaveLength(1);
    // Nothing a caller typed, no code, secret or recovery code in any SET.
    const decoded = sets.map((set) => Buffer.from(set.split('.')[1], 'base64url').toString('utf8')).join('\n');
    for (const secret of [
      enrolled.secret,
      ...enrolled.recoveryCodes,
      ...(regenerated.data?.regenerateRecoveryCodes?.codes ?? []).map((one: { code: string }) => one.code),
      'lost phone',
      '555-0100',
    ]) {
      expect(decoded).not.toContain(secret);
    }
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it('turning two-factor off sends credential-change delete and assurance-level-change decrease', async () => {
    const stream = await pollStream([CREDENTIAL_CHANGE, ASSURANCE_LEVEL_CHANGE]);
    const user = uniqueId('off');
    await addUser(stream, user);
    const enrolled = await enrollTotp(t, user);
    const off = await t.gql(
      'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
      { c: currentTotp(t, enrolled.secret) },
      await t.token(user, [], { authTime: t.clock.now() }),
    );
    expect(off.errors).toBeUndefined();
    const { body } = await poll(stream, { returnImmediately: true, maxEvents: 100 });
    const events = (
      await Promise.all(
        Object.values(body.sets as Record<string, string>).map((set) => verifySet(t, set, 'receiver-idp')),
      )
    ).map(eventOf);
    expect(events.map((e) => [e.type, e.claims.change_type ?? e.claims.change_direction])).toEqual([
      [CREDENTIAL_CHANGE, 'create'],
      [ASSURANCE_LEVEL_CHANGE, 'increase'],
      [CREDENTIAL_CHANGE, 'delete'],
      [ASSURANCE_LEVEL_CHANGE, 'decrease'],
    ]);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });

  it('sends a verification event with the state the receiver gave', async () => {
    const stream = await pollStream();
    expect((await call(t, 'POST', '/ssf/verify', admin, { stream_id: stream, state: 'abc123' })).status).toBe(204);
    const { body } = await poll(stream);
    const [set] = Object.values(body.sets as Record<string, string>);
    const payload = await verifySet(t, set, 'receiver-idp');
    expect(payload.sub_id).toEqual({ format: 'opaque', id: stream });
    expect(payload.events).toEqual({ [VERIFICATION]: { state: 'abc123' } });
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream}`, admin);
  });
});
