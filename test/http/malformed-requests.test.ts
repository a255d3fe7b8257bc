import { connect } from 'node:net';
import { startTestApp, type TestApp } from '../support/test-app';

/** Sends bytes as they are (no client fixes the Host up) and reads until the server closes. */
function raw(url: string, request: string): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(request.slice(0, 60))}`));
    }, 5_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      resolve({
        status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0),
        headers: head,
        body: rest.join('\r\n\r\n'),
      });
    });
    socket.write(request);
  });
}

const graphql = (host: string | null, version = '1.1') => {
  const body = '{"query":"{ __typename }"}';
  return [
    `POST /graphql HTTP/${version}`,
    ...(host === null ? [] : [`Host: ${host}`]),
    'Content-Type: application/json',
    `Content-Length: ${body.length}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
};

/** Log lines above info (pino levels: 40 warn, 50 error). */
const loud = (t: TestApp) => t.logs.filter((line) => JSON.parse(line).level > 30);

describe('requests malformed below GraphQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it.each([
    ['a Host with a space', graphql('a b')],
    ['a Host of one bracket', graphql('[')],
    ['a Host of one percent sign', graphql('%')],
    ['an empty Host', graphql('')],
    ['HTTP/1.0 without a Host', graphql(null, '1.0')],
    ['HTTP/1.1 without a Host', graphql(null)],
    ['a Host with a path in it', graphql('a/b')],
  ])('answers %s with a 400 BAD_REQUEST, logged at info at most', async (_name, request) => {
    const before = loud(t).length;
    const response = await raw(t.url, request);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(loud(t).slice(before)).toEqual([]);
  });

  const get = (target: string) =>
    [
      `GET ${target} HTTP/1.1`,
      'Host: localhost',
      'Accept: application/json',
      'Apollo-Require-Preflight: 1',
      'Connection: close',
      '',
      '',
    ].join('\r\n');
  const postTo = (target: string) => graphql('localhost').replace('POST /graphql ', `POST ${target} `);

  it.each([
    ['a path with a bad percent-encoding', postTo('/gr%aphql')],
    ['a path of one percent sign', get('/%')],
    ['a path with an encoded byte that is no UTF-8', get('/graphql/%C0')],
    ['an unknown path with a bad percent-encoding', get('/%zz?x=1')],
    ['a GraphQL query string with a bad percent-encoding', get('/graphql?query=%7B__typename%7D%zz')],
    ['a query string ending in a percent sign', postTo('/graphql?x=%')],
    ['a query string whose bytes are no UTF-8', get('/healthz?a=%FF')],
  ])('answers %s with a 400 BAD_REQUEST, logged at info at most', async (_name, request) => {
    const before = loud(t).length;
    const response = await raw(t.url, request);
    expect(response.status).toBe(400);
    expect(response.headers).toMatch(/cache-control: no-store/i);
    expect(JSON.parse(response.body)).toEqual({
      errors: [{ message: expect.stringMatching(/URL/), extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(loud(t).slice(before)).toEqual([]);
    expect(t.logs.slice(before).some((line) => JSON.parse(line).status === 400)).toBe(true);
  });

  it('still answers well-formed percent-encoding in the path and the query', async () => {
    const response = await raw(t.url, get('/graphql?query=%7B%20__typename%20%7D&x=%E2%9C%93'));
    expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });
    expect((await raw(t.url, get('/health%7A'))).status).toBe(200);
  });

  it('still answers a well-formed Host, and HTTP/1.0 health checks without one', async () => {
    expect(JSON.parse((await raw(t.url, graphql('localhost:4000'))).body)).toEqual({ data: { __typename: 'Query' } });
    expect((await raw(t.url, 'GET /healthz HTTP/1.0\r\n\r\n')).status).toBe(200);
  });

  it.each([
    [
      'headers over the size limit',
      431,
      `GET /graphql HTTP/1.1\r\nHost: localhost\r\nX-Pad: ${'x'.repeat(20_000)}\r\n\r\n`,
    ],
    ['a request line that is not HTTP', 400, 'HELLO THERE\r\n\r\n'],
    ['a header without a colon', 400, 'GET /graphql HTTP/1.1\r\nHost: localhost\r\nno colon here\r\n\r\n'],
  ])("answers Node's own refusal of %s GraphQL-shaped", async (_name, status, request) => {
    const before = loud(t).length;
    const response = await raw(t.url, request);
    expect(response.status).toBe(status);
    expect(response.headers).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(response.body)).toEqual({
      errors: [{ message: expect.any(String), extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(loud(t).slice(before)).toEqual([]);
  });
});
