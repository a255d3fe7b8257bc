import { randomBytes } from 'node:crypto';
import { watchRoundTrips } from '../support/round-trips';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { loginRemembering, startLogin } from '../support/trusted-devices';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const VERIFY =
  'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { userId method assertion } }';
const WEBHOOK = 'mutation($u: String!) { createWebhookEndpoint(url: $u, eventTypes: []) { endpoint { id } secret } }';

/**
 * The login path planned, then sent (docs/adr/0013-answers-planned-then-sent.md):
 * a verification reads what decides under the user's row lock in one round trip
 * to MariaDB and sends every write of the decision with its COMMIT in a second;
 * the store hears from it once. Counted on the real MariaDB and Redis.
 */
describe('round trips of the login path', () => {
  const prefix = `tf:rt:${randomBytes(4).toString('hex')}:`;
  let t: TestApp;
  let loginService: string;
  let watch: Awaited<ReturnType<typeof watchRoundTrips>>;

  beforeAll(async () => {
    // Background work only when asked: every statement sent while a request runs is the request's.
    t = await startTestApp({
      storeKeyPrefix: prefix,
      manualBackgroundWork: true,
      env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' },
    });
    loginService = await t.token('login-service', ['twofactor:login']);
    // Every event type subscribed: each audited change also writes its outbox row, in the same batch.
    const admin = await t.token('webhook-admin', ['twofactor:admin']);
    const created = await t.gql(WEBHOOK, { u: 'http://127.0.0.1:9/hooks' }, admin);
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    watch = await watchRoundTrips(t.app.database, prefix);
  });
  afterAll(async () => {
    watch?.stop();
    await t?.close();
  });

  /**
   * A throwaway failure (its event), then a round of the worker, as under load,
   * where rounds come every second: the worker has seen the endpoint, so a
   * change's outbox INSERT need not ask whether one takes the type (ADR 0019).
   */
  const warmEndpointList = async () => {
    const other = await startLogin(t, loginService, uniqueId('warm'));
    await t.gql(VERIFY, { id: other.id, c: '000000' });
    await t.app.webhooks.worker.runOnce();
  };
  /** The one outbox statement of a change: one row, whatever the number of endpoints; no delivery, no endpoint read. */
  const OUTBOX =
    /INSERT INTO webhook_events \(webhook_id, type, payload, created_at\) VALUES \(\?, \?, \?, \?\);\s*COMMIT$/s;
  const webhookTables = (sql: string[]) => sql.join('\n').match(/\bwebhook_(?:events|endpoints|deliveries|locks)\b/g);

  it('verifies a TOTP code in two round trips to MariaDB and one command to Redis', async () => {
    const user = await enrollTotp(t, uniqueId('rt'));
    const challenge = await startLogin(t, loginService, user.userId);
    await warmEndpointList();
    const { result, sql, redis } = await watch.during(() =>
      t.gql(VERIFY, { id: challenge.id, c: currentTotp(t, user.secret) }),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.verifyLoginChallenge.method).toBe('TOTP');
    expect(redis).toEqual(['evalsha']);
    expect(sql).toHaveLength(2);
    expect(sql[0]).toMatch(/^START TRANSACTION;\s*SELECT .* FOR UPDATE;/s);
    // The writes of the decision: the replay guard, the last use, the spend, the audit row and its outbox row.
    expect(sql[1]).toMatch(
      /UPDATE users .*INSERT INTO spent_login_challenges.*INSERT INTO audit_events.*INSERT INTO webhook_events.*COMMIT$/s,
    );
    expect(sql[1]).toMatch(OUTBOX);
    expect(webhookTables(sql)).toEqual(['webhook_events']);
  });

  it('refuses a wrong code in the same shape: the failure, its audit row and event go with the COMMIT', async () => {
    const user = await enrollTotp(t, uniqueId('rt'));
    nextStep(t);
    const challenge = await startLogin(t, loginService, user.userId);
    const wrong = currentTotp(t, user.secret) === '000000' ? '000001' : '000000';
    await warmEndpointList();
    const { result, sql, redis } = await watch.during(() => t.gql(VERIFY, { id: challenge.id, c: wrong }));
    expect(errorCode(result)).toBe('INVALID_CODE');
    // A wrong 6-digit code is tried as an SMS code too: this user has no phone number, so the store is not asked again.
    expect(redis).toEqual(['evalsha']);
    expect(sql).toHaveLength(2);
    expect(sql[1]).toMatch(
      /UPDATE users SET failed_attempts_in_row = failed_attempts_in_row \+ 1.*INSERT INTO audit_events.*COMMIT$/s,
    );
    expect(sql[1]).toMatch(OUTBOX);
    expect(webhookTables(sql)).toEqual(['webhook_events']);
  });

  it('starts a login with a trusted device in two round trips: the device and the status, then its use with the COMMIT', async () => {
    const user = await enrollTotp(t, uniqueId('rt'));
    const { deviceToken } = await loginRemembering(t, loginService, user.userId, currentTotp(t, user.secret));
    await warmEndpointList();
    const { result, sql, redis } = await watch.during(() => startLogin(t, loginService, user.userId, deviceToken));
    expect(result.assertion).toEqual(expect.any(String));
    expect(redis).toEqual([]);
    expect(sql).toHaveLength(2);
    expect(sql[0]).toMatch(/^START TRANSACTION;\s*SELECT .* FOR UPDATE;\s*SELECT .*;\s*SELECT /s);
    expect(sql[1]).toMatch(/^UPDATE trusted_devices .*INSERT INTO audit_events.*COMMIT$/s);
  });
});
