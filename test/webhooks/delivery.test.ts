import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';
import {
  createEndpoint,
  deliveriesOf,
  PRIVATE_WEBHOOKS,
  type Received,
  recordAudited,
  settled,
  WebhookReceiver,
} from '../support/webhook-receiver';

const REMOVE_TOTP = 'mutation($c: String!) { removeTotp(code: $c) { enabled } }';
const ROTATE = 'mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }';
const UPDATE =
  'mutation($id: ID!, $enabled: Boolean, $types: [String!], $url: String) { updateWebhookEndpoint(id: $id, enabled: $enabled, eventTypes: $types, url: $url) { id url eventTypes enabled disabledReason } }';
const RETRY = 'mutation($id: ID!) { retryWebhookDelivery(id: $id) { id eventId state attempts } }';
const ENDPOINTS = '{ webhookEndpoints { id url eventTypes enabled disabledReason createdAt } }';
const DELETE = 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }';

/**
 * Delivery end to end against receivers on 127.0.0.1 (node:http): the service on
 * MariaDB and Redis, private networks allowed, its worker polling every 50 ms;
 * the app's clock is moved by hand to make retries due. Tests wait with
 * `settled(t)`: until the worker has attempted all that is due and recorded the
 * outcomes, so what they then see is final, however loaded the machine.
 */
describe('webhooks: delivery', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let endpoint: { id: string; secret: string; admin: string };

  beforeAll(async () => {
    t = await startTestApp({ env: PRIVATE_WEBHOOKS });
  });
  afterAll(() => t?.close());

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
    endpoint = await createEndpoint(t, receiver.url);
  });
  afterEach(async () => {
    // Every endpoint gets every event: each test's goes, so the next one's receiver sees only its own.
    const admin = await t.token('ops-admin', ['twofactor:admin']);
    for (const { id } of (await t.gql(ENDPOINTS, {}, admin)).data.webhookEndpoints) await t.gql(DELETE, { id }, admin);
    await receiver.close();
  });

  const about = (userId: string) => (request: Received) => request.event.data.userId === userId;
  const deliveries = () => deliveriesOf(t, endpoint.id, endpoint.admin);

  it('delivers what a change committed, signed so that standardwebhooks verifies it', async () => {
    const userId = uniqueId('u');
    const at = t.clock.now().toISOString();
    await enrollTotp(t, userId);
    await settled(t);
    const requests = receiver.received.filter(about(userId));
    expect(requests.map((request) => request.event.type).sort()).toEqual(['factor.added', 'two_factor.enabled']);
    for (const request of requests) {
      expect(WebhookReceiver.verify(endpoint.secret, request)).toEqual(request.event);
      expect(request.id).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
      expect(Math.abs(Number(request.timestamp) - Date.now() / 1000)).toBeLessThan(30);
      expect(request.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.event.timestamp).toBe(at);
      expect(request.event.data).toMatchObject({
        userId,
        actorId: userId,
        clientIp: '127.0.0.1',
        occurredAt: request.event.timestamp,
      });
    }
    expect(requests.find((request) => request.event.type === 'factor.added')!.event.data.method).toBe('TOTP');
    expect(requests.find((request) => request.event.type === 'two_factor.enabled')!.event.data.method).toBe('TOTP');
    const listed = await deliveries();
    expect(listed.map((delivery) => delivery.state)).toEqual(['DELIVERED', 'DELIVERED']);
    expect(listed.map((delivery) => delivery.eventId).sort()).toEqual(requests.map((request) => request.id).sort());
    expect(listed[0]).toMatchObject({ attempts: 1, lastStatus: 200, lastError: null, nextAttemptAt: null });
    expect(listed[0].deliveredAt >= at && listed[0].deliveredAt <= t.clock.now().toISOString()).toBe(true);
  });

  it('sends nothing for a failed step-up', async () => {
    const userId = uniqueId('u');
    const user = await enrollTotp(t, userId);
    await settled(t);
    expect(receiver.received.filter(about(userId))).toHaveLength(2);
    const rows = async () =>
      (await t.sql('SELECT COUNT(*) AS n FROM webhook_events WHERE payload LIKE ?', [`%${userId}%`]))[0].n;
    expect(Number(await rows())).toBe(2);
    expect(errorCode(await t.gql(REMOVE_TOTP, { c: '000000' }, user.token))).toBe('INVALID_CODE');
    // The failure committed (audited, counted) without an event: once settled, nothing came.
    await settled(t);
    expect(Number(await rows())).toBe(2);
    expect(receiver.received.filter(about(userId))).toHaveLength(2);
  });

  it('writes no event for a change that rolls back, and one for a change that commits', async () => {
    const { database, webhooks } = t.app;
    const userId = uniqueId('u');
    const actor = { actorId: userId, clientIp: '127.0.0.1' };
    await expect(
      database.transaction(async (manager) => {
        await webhooks.events.recorded(manager, actor, { action: 'TWO_FACTOR_DISABLED', userId }, t.clock.now());
        throw new Error('the change failed after its event was written');
      }),
    ).rejects.toThrow('the change failed');
    const count = async () =>
      Number((await t.sql('SELECT COUNT(*) AS n FROM webhook_events WHERE payload LIKE ?', [`%${userId}%`]))[0].n);
    expect(await count()).toBe(0);
    await database.transaction((manager) =>
      webhooks.events.recorded(manager, actor, { action: 'TWO_FACTOR_DISABLED', userId }, t.clock.now()),
    );
    expect(await count()).toBe(1);
    await settled(t);
    expect(receiver.received.filter(about(userId)).map((request) => request.event.type)).toEqual([
      'two_factor.disabled',
    ]);
  });

  it('retries a 500 with the same webhook-id: DELIVERED after two attempts', async () => {
    receiver.respond = (_request, index) => (index === 0 ? 500 : 200);
    const userId = uniqueId('u');
    await database(t).emit(userId);
    await settled(t);
    const [first] = await deliveries();
    expect(first).toMatchObject({ state: 'PENDING', attempts: 1, lastError: 'HTTP 500' });
    // About 5 s, jittered by ±20 %.
    const wait = new Date(first.nextAttemptAt).getTime() - t.clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(4_000);
    expect(wait).toBeLessThanOrEqual(6_000);
    t.clock.advance(6_001);
    await settled(t);
    const [delivered] = await deliveries();
    expect(delivered).toMatchObject({ state: 'DELIVERED', attempts: 2, lastStatus: 200, lastError: null });
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].id).toBe(receiver.received[0].id);
    expect(receiver.received[1].body).toBe(receiver.received[0].body);
    expect(delivered.eventId).toBe(receiver.received[0].id);
  });

  it('loses nothing while a receiver is closed for an hour, then reopened', async () => {
    await receiver.close();
    const userIds = [uniqueId('u'), uniqueId('u'), uniqueId('u')];
    for (const userId of userIds) await database(t).emit(userId);
    // Each attempt that is due made, and its outcome recorded.
    const attempted = async (attempts: number) => {
      await settled(t);
      expect((await deliveries()).map((delivery) => delivery.attempts)).toEqual([attempts, attempts, attempts]);
    };
    await attempted(1);
    expect((await deliveries())[0]).toMatchObject({
      state: 'PENDING',
      lastStatus: null,
      lastError: 'connection refused',
    });
    // Down for 5 s, 5 min, 30 min (each a little over the longest jittered delay): three more refused attempts.
    for (const [minutes, attempts] of [
      [0.11, 2],
      [6.1, 3],
      [36.1, 4],
    ] as const) {
      t.clock.advance(minutes * 60_000);
      await attempted(attempts);
    }
    expect((await deliveries()).every((delivery) => delivery.state === 'PENDING')).toBe(true);
    await receiver.reopen();
    t.clock.advance(2.41 * 3600_000);
    await settled(t);
    expect((await deliveries()).map((delivery) => delivery.state)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
    expect((await deliveries()).map((delivery) => delivery.attempts)).toEqual([5, 5, 5]);
    expect(new Set(receiver.received.map((request) => request.event.data.userId))).toEqual(new Set(userIds));
    expect(receiver.received).toHaveLength(3);
  });

  it('disables an endpoint that answers 410 Gone, and fails what was queued for it', async () => {
    receiver.respond = () => 410;
    const userId = uniqueId('u');
    await database(t).emit(userId);
    await settled(t);
    expect((await deliveries())[0]).toMatchObject({ state: 'FAILED', attempts: 1, lastStatus: 410 });
    const listed = (await t.gql(ENDPOINTS, {}, endpoint.admin)).data.webhookEndpoints;
    expect(listed.find((candidate: { id: string }) => candidate.id === endpoint.id)).toMatchObject({
      enabled: false,
      disabledReason: 'answered 410 Gone',
    });
    const audited = await t.sql("SELECT reason FROM audit_events WHERE action = 'WEBHOOK_ENDPOINT_DISABLED'");
    expect(audited.map((row) => row.reason)).toContain(`endpoint ${endpoint.id} answered 410 Gone`);
    // A disabled endpoint gets nothing more.
    await database(t).emit(uniqueId('u'));
    await settled(t);
    expect(await deliveries()).toHaveLength(1);
    expect(receiver.received).toHaveLength(1);
    // Enabled again by hand: the reason goes, new events flow.
    const enabled = await t.gql(UPDATE, { id: endpoint.id, enabled: true }, endpoint.admin);
    expect(enabled.data.updateWebhookEndpoint).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('signs with both secrets for 24 hours after a rotation, then with the new one only', async () => {
    const rotated = await t.gql(ROTATE, { id: endpoint.id }, endpoint.admin);
    const secret = rotated.data.rotateWebhookSecret.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secret).not.toBe(endpoint.secret);
    const during = uniqueId('u');
    await database(t).emit(during);
    await settled(t);
    const [request] = receiver.received.filter(about(during));
    expect(request.signature.split(' ')).toHaveLength(2);
    expect(WebhookReceiver.verify(secret, request)).toEqual(request.event);
    expect(WebhookReceiver.verify(endpoint.secret, request)).toEqual(request.event);

    t.clock.advance(24 * 3600_000 + 1_000);
    const after = uniqueId('u');
    await database(t).emit(after);
    await settled(t);
    const [later] = receiver.received.filter(about(after));
    expect(later.signature.split(' ')).toHaveLength(1);
    expect(WebhookReceiver.verify(secret, later)).toEqual(later.event);
    expect(() => WebhookReceiver.verify(endpoint.secret, later)).toThrow('No matching signature');
  });

  it('gives up after 3 days (FAILED), and retryWebhookDelivery sends it again with the same event id', async () => {
    receiver.respond = () => 503;
    const userId = uniqueId('u');
    await database(t).emit(userId);
    await settled(t);
    expect((await deliveries())[0]).toMatchObject({ state: 'PENDING', lastStatus: 503 });
    // As if the series had started 3 days ago: the next failure is the last.
    await t.sql('UPDATE webhook_deliveries SET series_started_at = ? WHERE endpoint_id = ?', [
      new Date(t.clock.now().getTime() - 3 * 24 * 3600_000 + 1_000),
      endpoint.id,
    ]);
    t.clock.advance(6_001);
    await settled(t);
    const [failed] = await deliveries();
    expect(failed).toMatchObject({ attempts: 2, lastStatus: 503, lastError: 'HTTP 503; gave up', nextAttemptAt: null });

    expect(errorCode(await t.gql(RETRY, { id: 'nope' }, endpoint.admin))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(RETRY, { id: '999999999' }, endpoint.admin))).toBe('NOT_FOUND');
    receiver.respond = () => 204;
    const retried = await t.gql(RETRY, { id: failed.id }, endpoint.admin);
    expect(retried.data.retryWebhookDelivery).toMatchObject({
      id: failed.id,
      eventId: failed.eventId,
      state: 'PENDING',
      attempts: 0,
    });
    await settled(t);
    expect((await deliveries())[0]).toMatchObject({ state: 'DELIVERED', attempts: 1, lastStatus: 204 });
    expect(receiver.received.map((request) => request.id)).toEqual([failed.eventId, failed.eventId, failed.eventId]);
    // Only a FAILED one.
    expect(errorCode(await t.gql(RETRY, { id: failed.id }, endpoint.admin))).toBe('BAD_USER_INPUT');
  });

  it('disabling an endpoint by hand fails what is queued for it; nothing is sent to it', async () => {
    await receiver.close();
    await database(t).emit(uniqueId('u'));
    await settled(t);
    expect((await deliveries())[0]).toMatchObject({ state: 'PENDING', lastError: 'connection refused' });
    const disabled = await t.gql(UPDATE, { id: endpoint.id, enabled: false }, endpoint.admin);
    expect(disabled.data.updateWebhookEndpoint).toMatchObject({ enabled: false, disabledReason: null });
    expect((await deliveries())[0]).toMatchObject({ state: 'FAILED', lastError: 'endpoint disabled' });
    const [failed] = await deliveries();
    expect(errorCode(await t.gql(RETRY, { id: failed.id }, endpoint.admin))).toBe('BAD_USER_INPUT');
  });

  it('sends each endpoint the types it takes; unknown types are refused', async () => {
    const other = await WebhookReceiver.start();
    try {
      const logins = await createEndpoint(t, other.url, ['login.failed']);
      const userId = uniqueId('u');
      await enrollTotp(t, userId);
      const loginService = await t.token('login-svc', ['twofactor:login']);
      const challenge = (
        await t.gql('mutation($u: ID!) { startLoginChallenge(userId: $u) { id } }', { u: userId }, loginService)
      ).data.startLoginChallenge.id;
      const verify = 'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId } }';
      expect(errorCode(await t.gql(verify, { id: challenge, c: '000000' }))).toBe('INVALID_CODE');
      await settled(t);
      expect(receiver.received.filter(about(userId))).toHaveLength(3);
      const [failure, ...more] = other.received.filter(about(userId));
      expect(more).toEqual([]);
      expect(failure.event.type).toBe('login.failed');
      expect(WebhookReceiver.verify(logins.secret, failure)).toEqual(failure.event);

      const refused = await t.gql(UPDATE, { id: logins.id, types: ['login.failed', 'code.sent'] }, endpoint.admin);
      expect(errorCode(refused)).toBe('BAD_USER_INPUT');
      expect(refused.errors![0].message).toContain('"code.sent"');
      const changed = await t.gql(UPDATE, { id: logins.id, types: [] }, endpoint.admin);
      expect(changed.data.updateWebhookEndpoint.eventTypes).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('lists deliveries newest first, by state, with cursors of that list only', async () => {
    for (let i = 0; i < 3; i += 1) await database(t).emit(uniqueId('u'));
    await settled(t);
    expect((await deliveries()).filter((d) => d.state === 'DELIVERED')).toHaveLength(3);
    const page = `query($e: ID!, $s: WebhookDeliveryState, $after: String) {
      webhookDeliveries(endpointId: $e, state: $s, first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await t.gql(page, { e: endpoint.id }, endpoint.admin)).data.webhookDeliveries;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await t.gql(page, { e: endpoint.id, after: first.pageInfo.endCursor }, endpoint.admin)).data
      .webhookDeliveries;
    const ids = [...first.edges, ...second.edges].map((edge: { node: { id: string } }) => Number(edge.node.id));
    expect(ids).toHaveLength(3);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(
      errorCode(await t.gql(page, { e: endpoint.id, s: 'FAILED', after: first.pageInfo.endCursor }, endpoint.admin)),
    ).toBe('BAD_USER_INPUT');
    expect((await t.gql(page, { e: endpoint.id, s: 'FAILED' }, endpoint.admin)).data.webhookDeliveries.edges).toEqual(
      [],
    );
    expect(errorCode(await t.gql(page, { e: 'no-such-endpoint' }, endpoint.admin))).toBe('NOT_FOUND');
  });

  it('keeps secrets encrypted at rest and shows them only when made', async () => {
    const [row] = await t.sql('SELECT secret_ciphertext FROM webhook_endpoints WHERE id = ?', [endpoint.id]);
    expect(row.secret_ciphertext).toMatch(/^v2\.0\./);
    expect(row.secret_ciphertext).not.toContain(endpoint.secret.slice(6, 20));
    const listed = await t.gql(ENDPOINTS, {}, endpoint.admin);
    expect(JSON.stringify(listed.body)).not.toContain(endpoint.secret);
    const audited = await t.sql("SELECT reason FROM audit_events WHERE action LIKE 'WEBHOOK_%'");
    expect(JSON.stringify(audited)).not.toContain(endpoint.secret);
  });

  it('claims a delivery again when the instance that claimed it died (its lease lapses)', async () => {
    const { WebhookRepository } = await import('../../src/webhooks/webhook.repository');
    const repository = new WebhookRepository(t.app.database);
    await t.app.webhooks.worker.stop(0);
    try {
      await database(t).emit(uniqueId('u'));
      // A claim that never reports back, as from an instance killed mid-attempt.
      const room = { total: 10, perEndpoint: 10, busy: new Map<string, string[]>() };
      const claimed = await t.app.database.transaction((manager) =>
        repository.claim(manager, t.clock.now(), room, 'dead-instance', new Date(t.clock.now().getTime() + 30_000)),
      );
      expect(claimed).toHaveLength(1);
      expect(
        await t.app.database.transaction((manager) =>
          repository.claim(manager, t.clock.now(), room, 'another', new Date(t.clock.now().getTime() + 30_000)),
        ),
      ).toEqual([]);
    } finally {
      t.app.webhooks.worker.start();
    }
    // Leased to the dead instance: nothing to claim until the lease lapses.
    await settled(t);
    expect(receiver.received).toHaveLength(0);
    t.clock.advance(30_001);
    await settled(t);
    expect((await deliveries())[0]).toMatchObject({ state: 'DELIVERED', attempts: 2 });
    expect(receiver.received).toHaveLength(1);
  });

  it('shows deliveries by outcome and the oldest pending event on /metrics', async () => {
    await receiver.close();
    await database(t).emit(uniqueId('u'));
    await settled(t);
    expect((await deliveries())[0]).toMatchObject({ state: 'PENDING', attempts: 1 });
    t.clock.advance(2_000);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="delivered"\} [1-9]/m);
    expect(text).toMatch(/^webhook_deliveries_total\{outcome="retried"\} [1-9]/m);
    const age = Number(/^webhook_oldest_pending_event_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(2);
  });

  it('turns a member losing or gaining what its organization requires into member_access_changed', async () => {
    const organizationId = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const memberId = uniqueId('member');
    const { syncOrganization } = await import('../support/directory');
    await syncOrganization(t, organizationId, { [owner.userId]: 'OWNER', [memberId]: 'MEMBER' });
    const required = await t.gql(
      'mutation($o: ID!) { requireTwoFactor(organizationId: $o, gracePeriodDays: 3) { requiresTwoFactor } }',
      { o: organizationId },
      owner.token,
    );
    expect(required.errors).toBeUndefined();
    await settled(t);
    const [policy] = receiver.received.filter(
      (request) =>
        request.event.type === 'organization.policy_changed' && request.event.data.organizationId === organizationId,
    );
    expect(policy.event.data).toMatchObject({
      organizationId,
      change: 'requires',
      requiresTwoFactor: true,
      requiresPhishingResistant: false,
      gracePeriodEndsAt: new Date(t.clock.now().getTime() + 3 * 24 * 3600_000).toISOString(),
      actorId: owner.userId,
    });
    // A policy change is one event, not one per member.
    expect(receiver.ofType('organization.member_access_changed')).toHaveLength(0);

    await enrollTotp(t, memberId);
    await settled(t);
    const [access, ...more] = receiver.ofType('organization.member_access_changed');
    expect(more).toEqual([]);
    expect(access.event.data).toMatchObject({
      userId: memberId,
      organizationId,
      allowed: true,
      reason: 'OK',
      graceEndsAt: null,
    });

    const admin = await t.token('support', ['twofactor:admin']);
    const reset = await t.gql(
      'mutation($u: ID!) { resetTwoFactor(userId: $u, reason: "lost phone") { enabled } }',
      { u: memberId },
      admin,
    );
    expect(reset.errors).toBeUndefined();
    await settled(t);
    const changes = receiver.ofType('organization.member_access_changed');
    expect(changes).toHaveLength(2);
    expect(changes[1].event.data).toMatchObject({
      userId: memberId,
      organizationId,
      allowed: true,
      reason: 'GRACE_PERIOD',
    });
    const [resetEvent] = receiver.ofType('two_factor.reset');
    expect(resetEvent.event.data).toMatchObject({ userId: memberId, actorId: 'support' });
    expect(resetEvent.body).not.toContain('lost phone');
  });

  it('tells of a factor removed, with the actor, and of two-factor turned off with it', async () => {
    const userId = uniqueId('u');
    const user = await enrollTotp(t, userId);
    nextStep(t);
    const removed = await t.gql(REMOVE_TOTP, { c: currentTotp(t, user.secret) }, user.token);
    expect(removed.data.removeTotp.enabled).toBe(false);
    await settled(t);
    const requests = receiver.received.filter(about(userId));
    expect(requests).toHaveLength(4);
    const byType = Object.fromEntries(requests.map((request) => [request.event.type, request.event.data]));
    expect(byType['factor.removed']).toMatchObject({ method: 'TOTP', actorId: userId });
    expect(byType['two_factor.disabled']).toMatchObject({ lastFactorRemoved: true });
  });
});

/** Events written straight to the outbox, in a transaction of the app's (as a change's audit entry would). */
function database(t: TestApp) {
  return {
    emit: (userId: string) => recordAudited(t, 'RECOVERY_CODES_VIEWED', userId),
  };
}
