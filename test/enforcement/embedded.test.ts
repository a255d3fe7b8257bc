import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type App, createApp } from '../../src/app';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { loadConfig } from '../../src/config/config';
import { ManualClock } from '../../src/infra/clock';
import { totpCodeAt } from '../support/totp';

const DAY = 24 * 60 * 60 * 1000;

/**
 * The embedded default (SQLite through sql.js, one process): exemptions and
 * grace reminders work there as on MariaDB, in plain SQL both accept (no SKIP
 * LOCKED, INSERT OR IGNORE for the reminder's claim).
 */
describe('enforcement: the embedded default', () => {
  const clock = new ManualClock(new Date());
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tf-embedded-enforcement-')), LOG_LEVEL: 'silent' });
  let app: App;
  let url: string;

  beforeAll(async () => {
    app = await createApp(config, { clock, logger: pino({ level: 'silent' }), manualBackgroundWork: true });
    await app.fastify.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.fastify.server.address() as { port: number }).port}`;
  });
  afterAll(() => app?.close());

  const gql = async (query: string, variables: Record<string, unknown>, token: string): Promise<any> => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const answer = await response.json();
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };
  const token = (subject: string, scopes: string[] = []) =>
    signDevelopmentToken(config.auth.jwtSecret!, subject, scopes, { authTime: clock.now() });
  const actions = async (organizationId: string): Promise<string[]> =>
    (
      await app.database.run((manager) =>
        manager.query('SELECT action FROM audit_events WHERE organization_id = ? ORDER BY id', [organizationId]),
      )
    ).map((row: { action: string }) => row.action);

  it('an exemption ends at its time and is announced once; the reminders of a 1-day grace period come once each', async () => {
    const directory = await token('directory-sync', ['twofactor:directory']);
    const reader = await token('ops', ['twofactor:read']);
    const owner = await token('olive');
    const { startTotpSetup } = await gql('mutation { startTotpSetup { secret } }', {}, owner);
    await gql(
      'mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }',
      { c: totpCodeAt(startTotpSetup.secret, clock.now()) },
      owner,
    );
    await gql('mutation { upsertOrganization(id: "embedded-org", name: "Embedded") { id } }', {}, directory);
    for (const [user, role] of [
      ['olive', 'OWNER'],
      ['pat', 'MEMBER'],
      ['quin', 'MEMBER'],
    ]) {
      await gql(
        'mutation($u: ID!, $r: OrganizationRole!) { setMembership(organizationId: "embedded-org", userId: $u, role: $r) { role } }',
        { u: user, r: role },
        directory,
      );
    }
    await gql('mutation { requireTwoFactor(organizationId: "embedded-org", gracePeriodDays: 1) { id } }', {}, owner);
    const until = new Date(clock.now().getTime() + 12 * 3600_000).toISOString();
    await gql(
      'mutation($t: DateTimeISO!) { exemptFromTwoFactor(organizationId: "embedded-org", userId: "pat", until: $t, reason: "Away") { endsAt } }',
      { t: until },
      owner,
    );
    const access = async (user: string) =>
      (
        await gql(
          'query($u: ID!) { organizationAccess(organizationId: "embedded-org", userId: $u, sessionAmr: ["pwd"]) { reason exemptUntil } }',
          { u: user },
          reader,
        )
      ).organizationAccess;
    expect(await access('pat')).toEqual({ reason: 'EXEMPT', exemptUntil: until });
    const preview = await gql(
      'query { previewTwoFactorRequirement(organizationId: "embedded-org") { membersAffected membersExempt affectedMembers { edges { node { user { id } } } } } }',
      {},
      owner,
    );
    expect(preview.previewTwoFactorRequirement).toEqual({
      membersAffected: 1,
      membersExempt: 1,
      affectedMembers: { edges: [{ node: { user: { id: 'quin' } } }] },
    });

    await app.runBackgroundJobs();
    clock.set(new Date(until));
    expect(await access('pat')).toEqual({ reason: 'GRACE_PERIOD', exemptUntil: null });
    await app.runBackgroundJobs();
    clock.advance(DAY);
    await app.runBackgroundJobs();
    await app.runBackgroundJobs();
    expect(
      (await actions('embedded-org')).filter((action) => !/^(ORGANIZATION_UPSERTED|MEMBERSHIP_SET)$/.test(action)),
    ).toEqual([
      'ORGANIZATION_REQUIRED_TWO_FACTOR',
      'TWO_FACTOR_EXEMPTION_GRANTED',
      'ORGANIZATION_GRACE_PERIOD_ENDING',
      'TWO_FACTOR_EXEMPTION_ENDED',
      'ORGANIZATION_GRACE_PERIOD_ENDED',
    ]);
  });
});
