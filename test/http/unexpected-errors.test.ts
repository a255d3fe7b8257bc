import { Registry } from 'prom-client';
import { serviceUnavailable } from '../../src/errors';
import { startTestApp, type TestApp } from '../support/test-app';

const lines = (t: TestApp) => t.logs.map((line) => JSON.parse(line));

describe('an unexpected error in a route', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  afterEach(() => jest.restoreAllMocks());

  it('is a 500 INTERNAL_SERVER_ERROR, GraphQL-shaped and without details, logged at error with the request id', async () => {
    // A bug: the route throws something nobody expected.
    jest.spyOn(Registry.prototype, 'metrics').mockRejectedValueOnce(new TypeError('secret detail of a bug'));
    const response = await fetch(`${t.url}/metrics`, { headers: { 'x-request-id': 'req-route-bug-1' } });
    expect(response.status).toBe(500);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toBe('req-route-bug-1');
    expect(await response.json()).toEqual({
      errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    const logged = lines(t).filter((line) => line.reqId === 'req-route-bug-1' && line.level === 50);
    expect(logged).toEqual([
      expect.objectContaining({ msg: 'unexpected error', err: expect.objectContaining({ type: 'TypeError' }) }),
    ]);
  });

  it('keeps 503 SERVICE_UNAVAILABLE for a store or database that cannot be reached', async () => {
    jest.spyOn(Registry.prototype, 'metrics').mockRejectedValueOnce(serviceUnavailable('rate-limit store'));
    const response = await fetch(`${t.url}/metrics`, { headers: { 'x-request-id': 'req-route-store-1' } });
    expect(response.status).toBe(503);
    expect((await response.json()).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');

    const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
    jest.spyOn(Registry.prototype, 'metrics').mockRejectedValueOnce(lost);
    const database = await fetch(`${t.url}/metrics`);
    expect(database.status).toBe(503);
    expect((await database.json()).errors[0]).toEqual({
      message: expect.stringMatching(/database/),
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  });
});
