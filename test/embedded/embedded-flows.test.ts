import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type App, createApp } from '../../src/app';
import { signDevelopmentToken } from '../../src/callers/token-signer';
import { loadConfig } from '../../src/config/config';
import { ManualClock } from '../../src/infra/clock';
import { webAuthnStandIn } from '../support/phishing-resistant';
import { totpCodeAt } from '../support/totp';

/** The same rules on the embedded default: SQLite (sql.js) and the in-process store. */
describe('the embedded default runs the same rules', () => {
  const clock = new ManualClock(new Date());
  let app: App;
  let url: string;
  let secret: string;
  const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'tf-embedded-flows-')), LOG_LEVEL: 'silent' });

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
  const code = (offset = 0) => totpCodeAt(secret, clock.now(), offset);

  it('sets up TOTP, refuses a replay, uses a recovery code once, and logs in', async () => {
    const token = await signDevelopmentToken(config.auth.jwtSecret!, 'embedded-user', [], { authTime: clock.now() });
    secret = (await gql('mutation { startTotpSetup { secret } }', {}, token)).data.startTotpSetup.secret;
    const confirmed = (
      await gql('mutation($c: String!) { confirmTotpSetup(code: $c) { recoveryCodes } }', { c: code() }, token)
    ).data.confirmTotpSetup;
    expect(confirmed.recoveryCodes).toHaveLength(10);
    const view = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';
    expect((await gql(view, { c: code() }, token)).errors[0].extensions.code).toBe('INVALID_CODE');
    expect((await gql(view, { c: code(1) }, token)).errors).toBeUndefined();
    const recovery = confirmed.recoveryCodes[0];
    const parallel = await Promise.all(Array.from({ length: 5 }, () => gql(view, { c: recovery }, token)));
    expect(parallel.filter((result) => !result.errors)).toHaveLength(1);

    const loginService = await signDevelopmentToken(config.auth.jwtSecret!, 'login', ['twofactor:login']);
    const challenge = (
      await gql('mutation { startLoginChallenge(userId: "embedded-user") { id methods } }', {}, loginService)
    ).data.startLoginChallenge;
    expect(challenge.methods).toEqual(['TOTP', 'RECOVERY_CODE']);
    clock.advance(60_000);
    const verified = await gql(
      'mutation($id: ID!, $c: String!) { verifyLoginChallenge(challengeId: $id, code: $c) { method recoveryCodesRemaining } }',
      { id: challenge.id, c: code() },
    );
    expect(verified.errors).toBeUndefined();
    expect(verified.data.verifyLoginChallenge).toEqual({ method: 'TOTP', recoveryCodesRemaining: 9 });
  });

  it('keeps organization counts and access in step', async () => {
    const directory = await signDevelopmentToken(config.auth.jwtSecret!, 'sync', [
      'twofactor:directory',
      'twofactor:read',
    ]);
    await gql('mutation { upsertOrganization(id: "emb-org", name: "Embedded") { id } }', {}, directory);
    await gql(
      'mutation { setMembership(organizationId: "emb-org", userId: "embedded-user", role: OWNER) { role } }',
      {},
      directory,
    );
    await gql(
      'mutation { setMembership(organizationId: "emb-org", userId: "plain-user", role: MEMBER) { role } }',
      {},
      directory,
    );
    const result = await gql(
      '{ organization(id: "emb-org") { compliance { totalMembers membersWithTwoFactor ownersWithoutTwoFactor } } }',
      {},
      directory,
    );
    expect(result.data.organization.compliance).toEqual({
      totalMembers: 2,
      membersWithTwoFactor: 1,
      ownersWithoutTwoFactor: 0,
    });
    const access = await gql(
      '{ organizationAccess(organizationId: "emb-org", userId: "plain-user") { allowed reason } }',
      {},
      directory,
    );
    expect(access.data.organizationAccess).toEqual({ allowed: true, reason: 'OK' });
  });

  it("shows a re-created organization's owners only its own audit events", async () => {
    const directory = await signDevelopmentToken(config.auth.jwtSecret!, 'sync', ['twofactor:directory']);
    const sync = async (owner: string) => {
      await gql('mutation { upsertOrganization(id: "emb-again", name: "Again") { id } }', {}, directory);
      await gql(
        'mutation($u: ID!) { setMembership(organizationId: "emb-again", userId: $u, role: OWNER) { role } }',
        { u: owner },
        directory,
      );
    };
    const events = async (owner: string) =>
      (
        await gql(
          '{ auditEvents(organizationId: "emb-again") { edges { node { action userId } } } }',
          {},
          await signDevelopmentToken(config.auth.jwtSecret!, owner),
        )
      ).data.auditEvents.edges.map((edge: any) => edge.node);
    await sync('first-owner');
    await gql('mutation { deleteOrganization(id: "emb-again") }', {}, directory);
    await sync('second-owner');
    expect(await events('second-owner')).toEqual([
      { action: 'MEMBERSHIP_SET', userId: 'second-owner' },
      { action: 'ORGANIZATION_UPSERTED', userId: null },
    ]);
  });

  it('answers the phishing-resistant policy, its counters and filter the same way', async () => {
    const directory = await signDevelopmentToken(config.auth.jwtSecret!, 'sync', [
      'twofactor:directory',
      'twofactor:read',
    ]);
    await gql('mutation { upsertOrganization(id: "emb-pr-org", name: "Embedded PR") { id } }', {}, directory);
    await gql(
      'mutation { setMembership(organizationId: "emb-pr-org", userId: "embedded-user", role: OWNER) { role } }',
      {},
      directory,
    );
    await gql(
      'mutation { setMembership(organizationId: "emb-pr-org", userId: "plain-user", role: MEMBER) { role } }',
      {},
      directory,
    );
    const owner = await signDevelopmentToken(config.auth.jwtSecret!, 'embedded-user', []);
    const require =
      'mutation { requirePhishingResistantTwoFactor(organizationId: "emb-pr-org") { requiresPhishingResistantTwoFactor } }';
    expect((await gql(require, {}, owner)).errors[0].extensions).toEqual({
      code: 'OWNERS_WITHOUT_TWO_FACTOR',
      userIds: ['embedded-user'],
    });

    const webAuthn = webAuthnStandIn(app, clock);
    await webAuthn.addFirstCredential('embedded-user');
    expect((await gql(require, {}, owner)).data.requirePhishingResistantTwoFactor).toEqual({
      requiresPhishingResistantTwoFactor: true,
    });
    const access = (userId: string, sessionAmr?: string[]) =>
      gql(
        'query($u: ID!, $s: [String!]) { organizationAccess(organizationId: "emb-pr-org", userId: $u, sessionAmr: $s) { allowed reason } }',
        { u: userId, s: sessionAmr },
        directory,
      );
    expect((await access('plain-user')).data.organizationAccess).toEqual({
      allowed: false,
      reason: 'PHISHING_RESISTANT_REQUIRED',
    });
    expect((await access('embedded-user', ['pwd', 'hwk'])).data.organizationAccess).toEqual({
      allowed: true,
      reason: 'OK',
    });
    // Without the session's amr a member who has a key is refused: the requirement fails closed.
    expect((await access('embedded-user')).data.organizationAccess).toEqual({
      allowed: false,
      reason: 'SESSION_FACTOR_NOT_ACCEPTED',
    });
    const organization = await gql(
      `{ organization(id: "emb-pr-org") {
        compliance { membersWithPhishingResistant ownersWithoutPhishingResistant compliant }
        members(filter: { phishingResistant: false }) { totalCount edges { node { user { id } } } }
      } }`,
      {},
      directory,
    );
    expect(organization.data.organization).toEqual({
      compliance: { membersWithPhishingResistant: 1, ownersWithoutPhishingResistant: 0, compliant: false },
      members: { totalCount: 1, edges: [{ node: { user: { id: 'plain-user' } } }] },
    });
    await expect(webAuthn.removeLastCredential('embedded-user')).rejects.toMatchObject({
      code: 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION',
    });
  });
});
