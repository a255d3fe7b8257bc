import { createLocalJWKSet } from 'jose';
import { startTestApp, type TestApp } from '../../support/test-app';
import { ALL_EVENTS, AUTH_ISSUER, call, POLL, PUSH, SSF_ISSUER, ssfApp } from './ssf-support';

/**
 * The transmitter's metadata, keys and stream management (OpenID SSF 1.0;
 * contract: README.md, "Security signals"): public metadata and JWKS; stream
 * management for twofactor:admin only.
 */
describe('Shared Signals: configuration and stream management', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(ssfApp());
    admin = await t.token('receiver-idp', ['twofactor:admin']);
  });
  afterAll(() => t.close());

  it('publishes its configuration with absolute URLs under SSF_ISSUER, nothing empty', async () => {
    const { status, body } = await call(t, 'GET', '/.well-known/ssf-configuration', null);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      spec_version: '1_0',
      issuer: SSF_ISSUER,
      jwks_uri: `${SSF_ISSUER}/ssf/jwks.json`,
      delivery_methods_supported: [PUSH, POLL],
      configuration_endpoint: `${SSF_ISSUER}/ssf/streams`,
      status_endpoint: `${SSF_ISSUER}/ssf/status`,
      verification_endpoint: `${SSF_ISSUER}/ssf/verify`,
      add_subject_endpoint: `${SSF_ISSUER}/ssf/subjects:add`,
      remove_subject_endpoint: `${SSF_ISSUER}/ssf/subjects:remove`,
    });
    for (const value of Object.values(body)) {
      expect(value === '' || value === null || (Array.isArray(value) && value.length === 0)).toBe(false);
    }
  });

  it('publishes one ES256 public key with its kid, and no private part', async () => {
    const { status, body } = await call(t, 'GET', '/ssf/jwks.json', null);
    expect(status).toBe(200);
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(typeof body.keys[0].kid).toBe('string');
    expect(body.keys[0].d).toBeUndefined();
    expect(() => createLocalJWKSet(body)).not.toThrow();
  });

  it('refuses stream management without a token (401) and without twofactor:admin (403)', async () => {
    const reader = await t.token('siem', ['twofactor:read']);
    const requests: [string, string, unknown?][] = [
      ['POST', '/ssf/streams', { delivery: { method: POLL } }],
      ['GET', '/ssf/streams'],
      ['PATCH', '/ssf/streams', { stream_id: 'x' }],
      ['PUT', '/ssf/streams', { stream_id: 'x' }],
      ['DELETE', '/ssf/streams?stream_id=x'],
      ['GET', '/ssf/status?stream_id=x'],
      ['POST', '/ssf/status', { stream_id: 'x', status: 'paused' }],
      ['POST', '/ssf/subjects:add', { stream_id: 'x' }],
      ['POST', '/ssf/subjects:remove', { stream_id: 'x' }],
      ['POST', '/ssf/verify', { stream_id: 'x' }],
      ['POST', '/ssf/poll/x', {}],
    ];
    for (const [method, path, body] of requests) {
      const anonymous = await call(t, method, path, null, body);
      expect([method, path, anonymous.status]).toEqual([method, path, 401]);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const forbidden = await call(t, method, path, reader, body);
      expect([method, path, forbidden.status]).toEqual([method, path, 403]);
      const bad = await call(t, method, path, 'not-a-token', body);
      expect([method, path, bad.status]).toEqual([method, path, 401]);
    }
  });

  it('creates, reads, updates, replaces and deletes a stream', async () => {
    const created = await call(t, 'POST', '/ssf/streams', admin, {
      events_requested: [...ALL_EVENTS, 'https://example.com/not-supported'],
      delivery: { method: POLL },
      description: 'IdP',
    });
    expect(created.status).toBe(201);
    const id = created.body.stream_id;
    expect(created.body).toEqual({
      stream_id: id,
      iss: SSF_ISSUER,
      aud: 'receiver-idp',
      events_supported: ALL_EVENTS,
      events_requested: ALL_EVENTS,
      events_delivered: ALL_EVENTS,
      delivery: { method: POLL, endpoint_url: `${SSF_ISSUER}/ssf/poll/${id}` },
      description: 'IdP',
    });

    const read = await call(t, 'GET', `/ssf/streams?stream_id=${id}`, admin);
    expect(read).toMatchObject({ status: 200, body: created.body });
    const list = await call(t, 'GET', '/ssf/streams', admin);
    expect(list.body.map((stream: any) => stream.stream_id)).toContain(id);

    const patched = await call(t, 'PATCH', '/ssf/streams', admin, {
      stream_id: id,
      events_requested: [ALL_EVENTS[0]],
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events_requested: [ALL_EVENTS[0]], description: 'IdP' });

    const replaced = await call(t, 'PUT', '/ssf/streams', admin, {
      stream_id: id,
      events_requested: [ALL_EVENTS[1]],
      delivery: { method: POLL },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.events_delivered).toEqual([ALL_EVENTS[1]]);
    // Replaced whole: what was not given returns to its default.
    expect(replaced.body.description).toBeUndefined();

    expect((await call(t, 'GET', `/ssf/status?stream_id=${id}`, admin)).body).toEqual({
      stream_id: id,
      status: 'enabled',
    });
    const paused = await call(t, 'POST', '/ssf/status', admin, { stream_id: id, status: 'paused', reason: 'upgrade' });
    expect(paused.body).toEqual({ stream_id: id, status: 'paused', reason: 'upgrade' });
    expect((await call(t, 'POST', '/ssf/status', admin, { stream_id: id, status: 'asleep' })).status).toBe(400);

    expect((await call(t, 'DELETE', `/ssf/streams?stream_id=${id}`, admin)).status).toBe(204);
    expect((await call(t, 'GET', `/ssf/streams?stream_id=${id}`, admin)).status).toBe(404);
    expect((await call(t, 'DELETE', `/ssf/streams?stream_id=${id}`, admin)).status).toBe(404);
  });

  it('adds and removes subjects of AUTH_ISSUER only, and refuses malformed ones', async () => {
    const { body } = await call(t, 'POST', '/ssf/streams', admin, { delivery: { method: POLL } });
    const stream_id = body.stream_id;
    const user = { format: 'iss_sub', iss: AUTH_ISSUER, sub: 'alice' };
    expect((await call(t, 'POST', '/ssf/subjects:add', admin, { stream_id, subject: user })).status).toBe(200);
    const tenant = { format: 'complex', tenant: { format: 'opaque', id: 'org-1' } };
    expect((await call(t, 'POST', '/ssf/subjects:add', admin, { stream_id, subject: tenant })).status).toBe(200);
    expect((await call(t, 'POST', '/ssf/subjects:remove', admin, { stream_id, subject: user })).status).toBe(204);
    for (const subject of [
      { format: 'iss_sub', iss: 'https://elsewhere.test', sub: 'alice' },
      { format: 'email', email: 'alice@example.com' },
      { format: 'complex', tenant: { format: 'email', email: 'x@example.com' } },
      'alice',
    ]) {
      const refused = await call(t, 'POST', '/ssf/subjects:add', admin, { stream_id, subject });
      expect([subject, refused.status]).toEqual([subject, 400]);
    }
    const unknown = await call(t, 'POST', '/ssf/subjects:add', admin, { stream_id: 'nope', subject: user });
    expect(unknown.status).toBe(404);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${stream_id}`, admin);
  });

  it('asks for every subject only with a token that also holds twofactor:read', async () => {
    const refused = await call(t, 'POST', '/ssf/streams', admin, { delivery: { method: POLL }, all_subjects: true });
    expect(refused.status).toBe(403);
    const both = await t.token('receiver-siem', ['twofactor:admin', 'twofactor:read']);
    const created = await call(t, 'POST', '/ssf/streams', both, { delivery: { method: POLL }, all_subjects: true });
    expect(created.status).toBe(201);
    expect(created.body.all_subjects).toBe(true);
    await call(t, 'DELETE', `/ssf/streams?stream_id=${created.body.stream_id}`, admin);
  });

  it('refuses bad stream configurations with 400', async () => {
    for (const body of [
      { delivery: { method: 'urn:example:carrier-pigeon' } },
      { delivery: { method: PUSH } },
      { delivery: { method: POLL }, events_requested: 'all' },
      { delivery: { method: POLL }, description: 'x'.repeat(256) },
      [],
    ]) {
      const result = await call(t, 'POST', '/ssf/streams', admin, body);
      expect([body, result.status]).toEqual([body, 400]);
    }
  });
});

describe('Shared Signals off', () => {
  it('answers 404 on every path when SSF has no issuer (production without SSF_ISSUER)', async () => {
    const t = await startTestApp({ configure: (config) => void (config.ssf = null) });
    try {
      const admin = await t.token('receiver', ['twofactor:admin']);
      for (const [method, path] of [
        ['GET', '/.well-known/ssf-configuration'],
        ['GET', '/ssf/jwks.json'],
        ['POST', '/ssf/streams'],
        ['POST', '/ssf/poll/x'],
      ]) {
        expect([path, (await call(t, method, path, admin, method === 'POST' ? {} : undefined)).status]).toEqual([
          path,
          404,
        ]);
      }
    } finally {
      await t.close();
    }
  });
});
