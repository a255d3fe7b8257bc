import { startTestApp, type TestApp } from '../support/test-app';

describe('an unexpected error', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('is answered without details and logged with the request id', async () => {
    // A table gone from under the service: a driver error nothing translates.
    await t.sql('RENAME TABLE audit_events TO audit_events_gone');
    try {
      const result = await t.gql(
        '{ auditEvents(first: 1) { edges { cursor } } }',
        {},
        await t.token('svc', ['twofactor:read']),
        {
          'x-request-id': 'req-unexpected-1',
        },
      );
      expect(result.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const lines = t.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'unexpected error');
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((line) => line.reqId === 'req-unexpected-1' && line.level === 50)).toBe(true);
    } finally {
      await t.sql('RENAME TABLE audit_events_gone TO audit_events');
    }
  });
});
