import { Redis } from 'ioredis';
import { CONTRACT_CODES } from '../support/faults';
import { REDIS_URL } from '../support/services';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  type CallerTokens,
  DEEPLY_NESTED_BODY,
  MUTATION_BY_GET,
  OPERATIONS,
  operationCases,
  setUpBadInputTarget,
  TRANSPORT_CASES,
} from './bad-input-cases';

/**
 * Generated malformed inputs for every operation of the contract, sent over HTTP
 * to the running service. Each must get a typed error of the contract, never a
 * 5xx or a hang, and change nothing but counted failures and their audit events.
 * The cases are in bad-input-cases.ts (the executor parity proof sends them too).
 */

const PROTECTED_TABLES = [
  'totp_factors',
  'sms_factors',
  'pending_setups',
  'recovery_codes',
  'organizations',
  'memberships',
  'webauthn_credentials',
  'two_factor_exemptions',
];

describe('malformed input to every operation', () => {
  let t: TestApp;
  let tokens: CallerTokens;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '1000000' } });
    ({ tokens } = await setUpBadInputTarget(t));
    redis = new Redis(REDIS_URL);
    prefix = (t.app.store as unknown as { prefix: string }).prefix;
  });
  afterAll(async () => {
    redis.disconnect();
    await t?.close();
  });

  const snapshot = async () => {
    const tables: Record<string, unknown> = {};
    for (const table of PROTECTED_TABLES) tables[table] = await t.sql(`SELECT * FROM ${table} ORDER BY 1, 2`);
    tables.users = await t.sql(
      'SELECT id, two_factor_enabled, enabled_at, last_totp_step, recovery_codes_generated_at FROM users WHERE two_factor_enabled = 1 ORDER BY id',
    );
    const keys = (await redis.keys(`${prefix}*`))
      .map((key) => key.slice(prefix.length))
      .filter(
        (key) => !/^limit:(user-failures|ip-attempts):/.test(key) && !/^(challenge-attempts|sms-checks):/.test(key),
      )
      .sort();
    return { tables, keys };
  };

  it('answers every case with a typed error of the contract, never a 5xx or a hang, and changes nothing', async () => {
    const before = await snapshot();
    const cases = operationCases(tokens);
    const failures: string[] = [];
    for (const testCase of cases) {
      const started = Date.now();
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(testCase.token ? { authorization: `Bearer ${testCase.token}` } : {}),
        },
        body: JSON.stringify({ query: testCase.document, variables: testCase.variables }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await response.json();
      const codes = (body.errors ?? []).map((error: { extensions?: { code?: string } }) => error.extensions?.code);
      if (response.status >= 500) failures.push(`${testCase.name}: HTTP ${response.status}`);
      else if (codes.length === 0)
        failures.push(`${testCase.name}: succeeded: ${JSON.stringify(body.data).slice(0, 100)}`);
      else if (!codes.every((code: string) => CONTRACT_CODES.has(code)))
        failures.push(`${testCase.name}: codes ${codes.join(',')}`);
      if (Date.now() - started > 5_000) failures.push(`${testCase.name}: took ${Date.now() - started} ms`);
    }
    console.log(`bad-input suite: ${cases.length} operation cases over ${Object.keys(OPERATIONS).length} operations`);
    expect(failures).toEqual([]);
    const after = await snapshot();
    expect(after.tables).toEqual(before.tables);
    expect(after.keys).toEqual(before.keys);
    // Only counted failures and their audit events were written: besides the seeding's
    // actions, no action but a failure's (every other one is listed).
    const actions = await t.sql(
      "SELECT DISTINCT action FROM audit_events WHERE action NOT IN ('TOTP_ENABLED', 'TWO_FACTOR_ENABLED', 'ORGANIZATION_UPSERTED', 'MEMBERSHIP_SET')",
    );
    const failureActions = ['CODE_CHECK_FAILED', 'LOGIN_FAILED', 'TWO_FACTOR_LOCKED'];
    expect(actions.map((row) => row.action).filter((action) => !failureActions.includes(action))).toEqual([]);
  }, 120_000);

  it.each(TRANSPORT_CASES)('refuses %s at the transport with a 4xx', async (_name, contentType, body, status) => {
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': contentType, authorization: `Bearer ${tokens.user}` },
      body,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    if (status === 413) expect(response.status).toBe(413);
    const json = await response.json();
    expect(CONTRACT_CODES.has(json.errors[0].extensions.code)).toBe(true);
  });

  it('survives deeply nested JSON variables', async () => {
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.all}` },
      body: DEEPLY_NESTED_BODY,
    });
    expect(response.status).toBe(400);
    expect(CONTRACT_CODES.has((await response.json()).errors[0].extensions.code)).toBe(true);
  });

  it('refuses a mutation sent with GET', async () => {
    const response = await fetch(`${t.url}${MUTATION_BY_GET}`, {
      headers: { 'apollo-require-preflight': 'true', authorization: `Bearer ${tokens.user}` },
    });
    expect(response.status).toBe(405);
    expect(CONTRACT_CODES.has((await response.json()).errors[0].extensions.code)).toBe(true);
  });
});
