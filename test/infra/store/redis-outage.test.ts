import { eventually } from '../../support/eventually';
import { PrivateRedis, freePort } from '../../support/private-redis';
import { startTestApp, type TestApp } from '../../support/test-app';

describe('when Redis goes away', () => {
  const redis = new PrivateRedis(freePort(17000));
  let t: TestApp;
  beforeAll(async () => {
    await redis.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url } });
  });
  afterAll(async () => {
    await t?.close();
    await redis.stop();
  });

  it('/readyz says 503 naming the store, and 200 again once it is back, without a restart', async () => {
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    await redis.stop();
    await eventually(async () => (await fetch(`${t.url}/readyz`)).status === 503);
    expect(await (await fetch(`${t.url}/readyz`)).json()).toEqual({ status: 'unavailable', failed: ['store'] });
    await redis.start();
    await eventually(async () => (await fetch(`${t.url}/readyz`)).status === 200);
  });
});
