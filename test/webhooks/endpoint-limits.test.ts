import { createConnection } from 'mysql2/promise';
import { LIMITS } from '../../src/limits';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, PRIVATE_WEBHOOKS, recordAudited, settled, WebhookReceiver } from '../support/webhook-receiver';

const CREATE = 'mutation($url: String!) { createWebhookEndpoint(url: $url) { secret endpoint { id } } }';
const ROTATE = 'mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }';
const ENDPOINTS = '{ webhookEndpoints { id } }';
const DELETE = 'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }';

/**
 * The endpoint limit and secret rotations are decided in the database, so they
 * hold for parallel requests to several instances (contract: "Webhooks"): two
 * instances here, on one MariaDB database.
 */
describe('webhooks: the endpoint limit and rotations, on two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;
  let admin: string;

  beforeAll(async () => {
    a = await startTestApp({ env: PRIVATE_WEBHOOKS });
    b = await startTestApp({ env: PRIVATE_WEBHOOKS, databaseUrl: a.databaseUrl, clock: a.clock });
    receiver = await WebhookReceiver.start();
    admin = await a.token('ops-admin', ['twofactor:admin']);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.close();
  });
  afterEach(async () => {
    for (const { id } of (await a.gql(ENDPOINTS, {}, admin)).data.webhookEndpoints) await a.gql(DELETE, { id }, admin);
  });

  const endpointRows = async () => Number((await a.sql('SELECT COUNT(*) AS n FROM webhook_endpoints'))[0].n);

  it(`creates at most ${LIMITS.webhookMaxEndpoints} endpoints from 60 parallel requests to both`, async () => {
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).gql(CREATE, { url: `${receiver.url}/${i}` }, admin)),
    );
    const created = results.filter((result) => result.errors === undefined);
    const refused = results.filter((result) => result.errors !== undefined);
    expect({ created: created.length, rows: await endpointRows() }).toEqual({
      created: LIMITS.webhookMaxEndpoints,
      rows: LIMITS.webhookMaxEndpoints,
    });
    expect(new Set(refused.map(errorCode))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(refused[0].errors![0].message).toBe(
      `At most ${LIMITS.webhookMaxEndpoints} webhook endpoints; delete one first.`,
    );
    // One deleted: one more fits, on either instance, and then none.
    const [first] = created;
    await b.gql(DELETE, { id: first.data.createWebhookEndpoint.endpoint.id }, admin);
    const again = await Promise.all(
      [a, b, a, b].map((t, i) => t.gql(CREATE, { url: `${receiver.url}/again-${i}` }, admin)),
    );
    expect(again.filter((result) => result.errors === undefined)).toHaveLength(1);
    expect(await endpointRows()).toBe(LIMITS.webhookMaxEndpoints);
  });

  it('runs parallel rotations one at a time, each keeping as previous the secret it replaced', async () => {
    const endpoint = await createEndpoint(a, receiver.url);
    // Another session holds the endpoint's row: every rotation, on either instance, gets as far as it can.
    const holder = await createConnection({ uri: a.databaseUrl });
    let rotations: Promise<{ errors?: unknown[]; data: any }>[];
    try {
      await holder.query('START TRANSACTION');
      await holder.query('SELECT id FROM webhook_endpoints WHERE id = ? FOR UPDATE', [endpoint.id]);
      rotations = [a, b, a, b].map((t) => t.gql(ROTATE, { id: endpoint.id }, admin));
      let settledEarly = false;
      const settle = () => (settledEarly = true);
      for (const rotation of rotations) void rotation.then(settle, settle);
      // All four waiting for the row; or one came back without waiting (its answer then fails the test below, not a hang).
      await waitingForLocks(a, 4, () => settledEarly);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    const results = await Promise.all(rotations);
    expect(results.map((result) => result.errors)).toEqual([undefined, undefined, undefined, undefined]);
    const secrets: string[] = results.map((result) => result.data.rotateWebhookSecret.secret);
    expect(new Set(secrets).size).toBe(4);

    // Done one after another: the last one's secret signs, beside the one it replaced (the third's);
    // neither the first two nor the original does.
    const userId = uniqueId('rotated');
    await recordAudited(a, 'LOGIN_FAILED', userId);
    await settled(a, b);
    const [request] = receiver.received.filter((received) => received.event.data.userId === userId);
    const signing = [endpoint.secret, ...secrets].filter((secret) => verifies(secret, request));
    expect(request.signature.split(' ')).toHaveLength(2);
    expect(signing).toHaveLength(2);
    expect(signing).not.toContain(endpoint.secret);
    const audited = await a.sql("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'WEBHOOK_SECRET_ROTATED'");
    expect(Number(audited[0].n)).toBe(4);
  });
});

function verifies(secret: string, request: Parameters<typeof WebhookReceiver.verify>[1]): boolean {
  try {
    WebhookReceiver.verify(secret, request);
    return true;
  } catch {
    return false;
  }
}

/** Until `count` transactions on t's database wait for a row lock (the database's own state, not the clock), or `done()`. */
async function waitingForLocks(t: TestApp, count: number, done: () => boolean): Promise<void> {
  while (!done()) {
    const [row] = await t.sql(
      `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX x
         JOIN information_schema.PROCESSLIST p ON p.ID = x.trx_mysql_thread_id
        WHERE x.trx_state = 'LOCK WAIT' AND p.DB = DATABASE()`,
    );
    if (Number(row.n) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
