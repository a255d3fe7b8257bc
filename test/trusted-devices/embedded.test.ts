import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type App, createApp } from '../../src/app';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { loadConfig } from '../../src/config/config';
import { ManualClock } from '../../src/infra/clock';
import { LIMITS } from '../../src/limits';
import { totpCodeAt } from '../support/totp';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The queries trusted devices rely on (the login's decision, the organizations'
 * check, the list, the purge) on the embedded default: SQLite (sql.js) and the
 * in-process store (docs/adr/0005-plain-sql-only-on-measured-hot-paths.md).
 */
describe('trusted devices on the embedded default', () => {
  const clock = new ManualClock(new Date());
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tf-embedded-td-')), LOG_LEVEL: 'silent' });
  let app: App;
  let url: string;

  beforeAll(async () => {
    app = await createApp(config, { clock, logger: pino({ level: 'silent' }) });
    await app.fastify.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.fastify.server.address() as { port: number }).port}`;
  });
  afterAll(() => app.close());

  const gql = async (query: string, variables: Record<string, unknown> = {}, token?: string) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  };
  const sign = (subject: string, scopes: string[] = []) =>
    signDevelopmentToken(config.auth.jwtSecret!, subject, scopes, { authTime: clock.now() });

  it('remembers, signs in, lists, follows the organization, expires and purges', async () => {
    const user = await sign('embedded-td');
    const secret = (await gql('mutation { startTotpSetup { secret } }', {}, user)).data.startTotpSetup.secret;
    const code = () => totpCodeAt(secret, clock.now());
    await gql('mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }', { c: code() }, user);
    clock.advance(30_000);
    const loginService = await sign('login', ['twofactor:login']);
    const start = (token?: string) =>
      gql(
        'mutation($d: String) { startLoginChallenge(userId: "embedded-td", deviceToken: $d) { id assertion } }',
        { d: token ?? null },
        loginService,
      ).then((result) => result.data.startLoginChallenge);

    const remembered = (
      await gql(
        'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c, rememberDevice: true, deviceName: "Laptop") { deviceToken } }',
        { id: (await start()).id, c: code() },
      )
    ).data.verifyLoginChallenge.deviceToken;
    expect(remembered).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await start(remembered)).assertion).toEqual(expect.any(String));
    expect((await start('garbage')).assertion).toBeNull();
    const listed = await gql('{ me { twoFactor { trustedDevices { name lastUsedAt } } } }', {}, user);
    expect(listed.data.me.twoFactor.trustedDevices).toEqual([
      { name: 'Laptop', lastUsedAt: clock.now().toISOString() },
    ]);

    const directory = await sign('sync', ['twofactor:directory']);
    await gql('mutation { upsertOrganization(id: "emb-td", name: "Embedded") { id } }', {}, directory);
    await gql(
      'mutation { setMembership(organizationId: "emb-td", userId: "embedded-td", role: OWNER) { role } }',
      {},
      directory,
    );
    const allow = (allowed: boolean) =>
      gql(
        'mutation($a: Boolean!) { setTrustedDevicesAllowed(organizationId: "emb-td", allowed: $a) { allowsTrustedDevices } }',
        { a: allowed },
        user,
      );
    expect((await allow(false)).data.setTrustedDevicesAllowed.allowsTrustedDevices).toBe(false);
    expect((await start(remembered)).assertion).toBeNull();
    await allow(true);
    expect((await start(remembered)).assertion).toEqual(expect.any(String));

    clock.advance(LIMITS.trustedDeviceDays * DAY_MS);
    expect((await start(remembered)).assertion).toBeNull();
    // The next new device purges the expired one.
    clock.advance(30_000);
    const another = await gql(
      'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c, rememberDevice: true) { deviceToken } }',
      { id: (await start()).id, c: code() },
    );
    expect(another.data.verifyLoginChallenge.deviceToken).toEqual(expect.any(String));
    const all = await app.database.dataSource.query('SELECT name FROM trusted_devices');
    expect(all).toEqual([{ name: 'Unnamed device' }]);
  });
});
