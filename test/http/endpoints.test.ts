import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { startTestApp, type TestApp } from '../support/test-app';

const PRODUCTION = {
  NODE_ENV: 'production',
  SMS_PROVIDER: 'sns',
  AUTH_ISSUER: 'https://id.example',
  AUTH_AUDIENCE: 'twofactor',
};

describe('GET / and /metrics on its own port (METRICS_PORT)', () => {
  let t: TestApp;
  let metricsUrl: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { METRICS_PORT: '0' } });
    metricsUrl = `http://127.0.0.1:${(t.app.metricsServer!.server.address() as { port: number }).port}`;
  });
  afterAll(() => t?.close());

  it('answers / with a pointer to /graphql in development', async () => {
    const response = await fetch(`${t.url}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ service: 'twofactor', graphql: '/graphql' });
  });

  it('serves /metrics on METRICS_PORT, and not on the API port', async () => {
    await t.gql('{ __typename }');
    const metrics = await fetch(`${metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toMatch(
      /graphql_operation_duration_seconds_count\{operation="__typename",outcome="ok"\} \d+/,
    );
    const api = await fetch(`${t.url}/metrics`);
    expect(api.status).toBe(404);
    expect((await api.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('closes the metrics port with the service', async () => {
    await t.close();
    await expect(fetch(`${metricsUrl}/metrics`)).rejects.toThrow();
    t = undefined as unknown as TestApp;
  });
});

describe('GET / in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: PRODUCTION });
  });
  afterAll(() => t?.close());

  it('says whose service it is, and nothing more', async () => {
    const response = await fetch(`${t.url}/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ service: 'twofactor' });
  });

  it('serves /metrics on the API port when METRICS_PORT is not set', async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(200);
  });
});

describe('METRICS_PORT', () => {
  const DATA_DIR = mkdtempSync(join(tmpdir(), 'tf-metrics-port-'));

  it('must differ from PORT', () => {
    expect(() => loadConfig({ DATA_DIR, PORT: '9100', METRICS_PORT: '9100' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR, PORT: '9100', METRICS_PORT: '9100' })).toThrow(/METRICS_PORT/);
    expect(loadConfig({ DATA_DIR, METRICS_PORT: '9100' }).http.metricsPort).toBe(9100);
    expect(loadConfig({ DATA_DIR }).http.metricsPort).toBeUndefined();
  });

  it('is a port number', () => {
    expect(() => loadConfig({ DATA_DIR, METRICS_PORT: 'metrics' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ DATA_DIR, METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });
});
