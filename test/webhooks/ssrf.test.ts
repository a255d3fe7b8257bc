import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { internalKind, NetworkPolicy, type ResolveHost } from '../../src/infra/outbound/network-policy';
import { OutboundSender } from '../../src/infra/outbound/outbound-sender';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { createEndpoint, deliveriesOf, PRIVATE_WEBHOOKS, settled, WebhookReceiver } from '../support/webhook-receiver';

const CREATE = 'mutation($url: String!) { createWebhookEndpoint(url: $url) { endpoint { id url } } }';

/** A DNS that answers what the test says, and the real one for anything else (localhost). */
function stubDns(): { answers: Map<string, string[]>; resolve: ResolveHost } {
  const answers = new Map<string, string[]>();
  return {
    answers,
    resolve: async (hostname) => {
      const addresses = answers.get(hostname);
      if (!addresses) {
        const { systemResolve } = await import('../../src/infra/outbound/network-policy');
        return systemResolve(hostname);
      }
      if (addresses.length === 0) throw Object.assign(new Error(`${hostname} not found`), { code: 'ENOTFOUND' });
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
}

/** A TCP listener on 127.0.0.1 that counts connections and answers nothing. */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

describe('webhooks: the SSRF guard', () => {
  describe('creating endpoints, without WEBHOOK_ALLOW_PRIVATE_NETWORKS', () => {
    const dns = stubDns();
    let t: TestApp;
    let admin: string;
    beforeAll(async () => {
      t = await startTestApp({ env: { WEBHOOK_POLL_INTERVAL_MS: '50' }, webhooks: { resolve: dns.resolve } });
      admin = await t.token('ops-admin', ['twofactor:admin']);
      dns.answers.set('hooks.example.test', ['93.184.215.14']);
      dns.answers.set('internal.example.test', ['10.0.0.5']);
      dns.answers.set('mixed.example.test', ['93.184.215.14', '192.168.1.1']);
      dns.answers.set('mapped.example.test', ['::ffff:127.0.0.1']);
      dns.answers.set('nowhere.example.test', []);
    });
    afterAll(() => t?.close());

    it.each([
      ['http://hooks.example.test/hook', 'must be https'],
      ['https://127.0.0.1/hook', '127.0.0.1 is a loopback address'],
      ['https://[::1]/hook', '::1 is a loopback address'],
      ['https://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
      ['https://[::ffff:127.0.0.1]/hook', 'loopback'],
      ['https://2130706433/hook', '127.0.0.1 is a loopback address'],
      ['https://0x7f.1/hook', '127.0.0.1 is a loopback address'],
      ['https://localhost:8443/hook', 'resolves to'],
      ['https://internal.example.test/hook', 'resolves to 10.0.0.5, a private address'],
      ['https://mixed.example.test/hook', 'resolves to 192.168.1.1, a private address'],
      ['https://mapped.example.test/hook', 'resolves to ::ffff:127.0.0.1, a loopback address'],
      ['https://nowhere.example.test/hook', 'does not resolve'],
      ['https://user:secret@hooks.example.test/hook', 'user name or password'],
      ['ftp://hooks.example.test/hook', 'must be https'],
      ['not a url', 'not a URL'],
    ])('refuses %s', async (url, message) => {
      const result = await t.gql(CREATE, { url }, admin);
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      expect(result.errors![0].message).toContain(message);
      expect(result.errors![0].extensions!.field).toBe('url');
    });

    it('accepts an https URL whose host resolves to public addresses only (without its fragment)', async () => {
      const result = await t.gql(CREATE, { url: 'https://hooks.example.test/twofactor?x=1#frag' }, admin);
      expect(result.errors).toBeUndefined();
      expect(result.data.createWebhookEndpoint.endpoint.url).toBe('https://hooks.example.test/twofactor?x=1');
      await t.gql(
        'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }',
        { id: result.data.createWebhookEndpoint.endpoint.id },
        admin,
      );
    });

    it('refuses the address a request connects to when the name resolves elsewhere later (DNS rebinding)', async () => {
      const listener = await countingListener();
      try {
        dns.answers.set('rebind.example.test', ['93.184.215.14']);
        const created = await t.gql(CREATE, { url: `https://rebind.example.test:${listener.port}/hook` }, admin);
        expect(created.errors).toBeUndefined();
        const endpointId = created.data.createWebhookEndpoint.endpoint.id;
        // Checked when created; now the name points inside.
        dns.answers.set('rebind.example.test', ['127.0.0.1']);
        const userId = uniqueId('u');
        await t.app.database.transaction((manager) =>
          t.app.webhooks.events.recorded(
            manager,
            { actorId: userId, clientIp: null },
            { action: 'TWO_FACTOR_LOCKED', userId },
            t.clock.now(),
          ),
        );
        await settled(t);
        const [delivery] = await deliveriesOf(t, endpointId, admin);
        expect(delivery).toMatchObject({
          attempts: 1,
          state: 'PENDING',
          lastStatus: null,
          lastError: 'refused: rebind.example.test resolves to 127.0.0.1, a loopback address',
        });
        // And as an IPv4-mapped IPv6 address.
        dns.answers.set('rebind.example.test', ['::ffff:7f00:1']);
        t.clock.advance(6_001);
        await settled(t);
        expect((await deliveriesOf(t, endpointId, admin))[0]).toMatchObject({ attempts: 2, state: 'PENDING' });
        expect((await deliveriesOf(t, endpointId, admin))[0].lastError).toContain('a loopback address');
        expect(listener.connections()).toBe(0);
        await t.gql('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id: endpointId }, admin);
      } finally {
        listener.server.close();
      }
    });
  });

  describe('redirects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-webhook-tls-'));
    let key: Buffer;
    let cert: Buffer;
    beforeAll(() => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=public.example.test',
          '-addext',
          'subjectAltName=DNS:public.example.test',
        ],
        { stdio: 'ignore' },
      );
      key = readFileSync(join(dir, 'key.pem'));
      cert = readFileSync(join(dir, 'cert.pem'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('are not followed without WEBHOOK_ALLOW_PRIVATE_NETWORKS: a 3xx to an internal address is a failure', async () => {
      const target = await countingListener();
      let answer = 302;
      const server = createHttpsServer({ key, cert }, (_request, response) => {
        response.writeHead(answer, { location: `http://127.0.0.1:${target.port}/latest/meta-data/` });
        response.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      // The receiver on loopback stands in for a public one: the test names its address public, and only it.
      const policy = new NetworkPolicy(
        false,
        async () => [{ address: '127.0.0.1', family: 4 }],
        (address) => (address === '127.0.0.1' ? null : internalKind(address)),
      );
      const sender = new OutboundSender(policy, { ca: cert });
      try {
        const url = `https://public.example.test:${port}/hook`;
        for (const status of [301, 302, 307, 308]) {
          answer = status;
          expect(await sender.send(url, {}, '{}')).toEqual({ status, error: `redirect (${status}) not followed` });
        }
        answer = 200;
        expect(await sender.send(url, {}, '{}')).toEqual({ status: 200, error: null });
        expect(target.connections()).toBe(0);
        // The real guard refuses this very receiver: its address is loopback.
        const guarded = new OutboundSender(
          new NetworkPolicy(false, async () => [{ address: '127.0.0.1', family: 4 }]),
          {
            ca: cert,
          },
        );
        expect(await guarded.send(url, {}, '{}')).toEqual({
          status: null,
          error: 'refused: public.example.test resolves to 127.0.0.1, a loopback address',
        });
        guarded.close();
      } finally {
        sender.close();
        server.close();
        target.server.close();
      }
    });

    it('are not followed with WEBHOOK_ALLOW_PRIVATE_NETWORKS either: the delivery is retried', async () => {
      const target = await WebhookReceiver.start();
      const server = createHttpServer((_request, response) => {
        response.writeHead(307, { location: target.url });
        response.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const t = await startTestApp({ env: PRIVATE_WEBHOOKS });
      try {
        const endpoint = await createEndpoint(t, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
        const userId = uniqueId('u');
        await t.app.database.transaction((manager) =>
          t.app.webhooks.events.recorded(
            manager,
            { actorId: userId, clientIp: null },
            { action: 'TWO_FACTOR_LOCKED', userId },
            t.clock.now(),
          ),
        );
        // Settled: the attempt made and its outcome recorded (its claim alone counts it already).
        await settled(t);
        expect((await deliveriesOf(t, endpoint.id, endpoint.admin))[0]).toMatchObject({
          attempts: 1,
          state: 'PENDING',
          lastStatus: 307,
          lastError: 'redirect (307) not followed',
        });
        expect(target.received).toHaveLength(0);
      } finally {
        await t.close();
        server.close();
        await target.close();
      }
    });
  });

  it('times out an attempt that gets no answer', async () => {
    const server = createHttpServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const sender = new OutboundSender(new NetworkPolicy(true), { timeoutMs: 300 });
    try {
      const result = await sender.send(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {}, '{}');
      // The sender's own time-out gave up (its message; the receiver never answers): no wall-clock bound.
      expect(result).toEqual({ status: null, error: 'no answer within 0.3 s' });
    } finally {
      sender.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
