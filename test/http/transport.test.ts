import { startTestApp, type TestApp } from '../support/test-app';

describe('HTTP transport', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { CORS_ORIGINS: 'https://app.example' } });
  });
  afterAll(() => t?.close());

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${t.url}/graphql`, { method: 'POST', headers, body });

  it('answers /healthz and /readyz while the database and store answer', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('serves Prometheus metrics, with GraphQL operations by root field and outcome', async () => {
    await t.gql('{ me { id } }', {}, await t.token('metrics-user'));
    await t.gql('{ me { id } }');
    const response = await fetch(`${t.url}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="me",outcome="ok"\} \d+/);
    expect(text).toMatch(/graphql_operation_duration_seconds_count\{operation="me",outcome="UNAUTHENTICATED"\} \d+/);
  });

  it('marks every response no-store', async () => {
    for (const response of [
      await fetch(`${t.url}/healthz`),
      await post('{"query":"{ __typename }"}'),
      await fetch(`${t.url}/nowhere`),
    ]) {
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it.each([
    ['a batch of operations', '[{"query":"{ __typename }"},{"query":"{ __typename }"}]', 400],
    ['broken JSON', '{"query": "{ __typename }"', 400],
    ['an empty body', '', 400],
    [
      'a body over the limit',
      JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(200_000) } }),
      413,
    ],
  ])('refuses %s with a GraphQL-shaped BAD_REQUEST', async (_name, body, status) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('refuses a request that CSRF prevention stops', async () => {
    const response = await fetch(`${t.url}/graphql?query=%7B__typename%7D`, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('refuses a text/plain body', async () => {
    const response = await post('{"query":"{ __typename }"}', { 'content-type': 'text/plain' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect((await response.json()).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('serves the Sandbox page to a browser while introspection is on', async () => {
    const response = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('sandbox');
  });

  it('answers CORS only for the listed origins', async () => {
    const allowed = await fetch(`${t.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${t.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('gives unknown fields a validation error, not a 5xx', async () => {
    const result = await t.gql('{ me { id password } }', {}, await t.token('u1'));
    expect(result.status).toBe(400);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('gives unparseable documents GRAPHQL_PARSE_FAILED', async () => {
    const result = await t.gql('{ me { id ', {}, await t.token('u1'));
    expect(result.status).toBe(400);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });
});

describe('HTTP transport in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: {
        NODE_ENV: 'production',
        SMS_PROVIDER: 'sns',
        AUTH_ISSUER: 'https://id.example',
        AUTH_AUDIENCE: 'twofactor',
      },
    });
  });
  afterAll(() => t?.close());

  it('turns introspection and the Sandbox page off', async () => {
    const result = await t.gql('{ __schema { types { name } } }', {}, await t.token('u1'));
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('sandbox');
  });

  it('gives no field suggestions', async () => {
    const result = await t.gql('{ mee { id } }', {}, await t.token('u1'));
    expect(result.errors?.[0].message).not.toMatch(/Did you mean/);
  });
});
