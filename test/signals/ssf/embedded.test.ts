import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import pino from 'pino';
import { type App, createApp } from '../../../src/app';
import { signDevelopmentToken } from '../../../src/callers/token-signer';
import { loadConfig } from '../../../src/config/config';
import { ManualClock } from '../../../src/infra/clock';
import { eventually } from '../../support/eventually';
import { totpCodeAt } from '../../support/totp';
import { ALL_EVENTS, CREDENTIAL_CHANGE, PUSH, SetReceiver } from './ssf-support';

/**
 * The embedded default (SQLite, one process): SSF on with the development
 * issuer (the service's own loopback address) and a signing key made once
 * under DATA_DIR; events queued and pushed as on MariaDB.
 */
describe('Shared Signals: the embedded default', () => {
  const clock = new ManualClock(new Date());
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-embedded-ssf-'));
  const config = loadConfig({
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    PORT: '4123',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '50',
  });
  let app: App;
  let url: string;
  let receiver: SetReceiver;

  beforeAll(async () => {
    app = await createApp(config, { clock, logger: pino({ level: 'silent' }) });
    await app.fastify.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.fastify.server.address() as { port: number }).port}`;
    receiver = await SetReceiver.start();
  });
  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  const token = (subject: string, scopes: string[] = []) =>
    signDevelopmentToken(config.auth.jwtSecret!, subject, scopes, { authTime: clock.now() });

  it('defaults the issuer to the loopback address and keeps the key under DATA_DIR', () => {
    expect(config.ssf?.issuer).toBe('http://127.0.0.1:4123');
    const file = join(dataDir, 'ssf-signing-key.pem');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(config.ssf?.signingKeyPem);
    // A second start reads the same key.
    expect(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }).ssf?.signingKeyPem).toBe(config.ssf?.signingKeyPem);
  });

  it('pushes a SET that verifies against the JWKS', async () => {
    const admin = await token('receiver', ['twofactor:admin']);
    const created = await fetch(`${url}/ssf/streams`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events_requested: ALL_EVENTS, delivery: { method: PUSH, endpoint_url: receiver.url } }),
    });
    expect(created.status).toBe(201);
    const stream = (await created.json()) as { stream_id: string };
    const added = await fetch(`${url}/ssf/subjects:add`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        stream_id: stream.stream_id,
        subject: { format: 'iss_sub', iss: 'http://127.0.0.1:4123', sub: 'eve' },
      }),
    });
    expect(added.status).toBe(200);

    const user = await token('eve');
    const gql = async (query: string, variables: Record<string, unknown>) =>
      (
        await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${user}` },
          body: JSON.stringify({ query, variables }),
        })
      ).json() as Promise<any>;
    const start = await gql('mutation { startTotpSetup { secret } }', {});
    const confirm = await gql('mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }', {
      c: totpCodeAt(start.data.startTotpSetup.secret, clock.now()),
    });
    expect(confirm.errors).toBeUndefined();

    await eventually(async () => receiver.received.length >= 2);
    const jwks = createLocalJWKSet((await (await fetch(`${url}/ssf/jwks.json`)).json()) as any);
    const { payload } = await jwtVerify(receiver.received[0].set, jwks, {
      issuer: 'http://127.0.0.1:4123',
      audience: 'receiver',
      typ: 'secevent+jwt',
    });
    expect(payload.events).toEqual({
      [CREDENTIAL_CHANGE]: expect.objectContaining({ credential_type: 'app', change_type: 'create' }),
    });
  });
});
