import { syncOrganization } from '../support/directory';
import { webAuthnStandIn } from '../support/phishing-resistant';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp, type EnrolledUser } from '../support/two-factor';

const PREVIEW = `query($o: ID!, $pr: Boolean, $first: Int, $after: String) {
  previewTwoFactorRequirement(organizationId: $o, phishingResistant: $pr) {
    phishingResistant totalMembers ownersBlocking ownersBlockingCount membersAffected membersExempt
    affectedMembers(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { user { id } role twoFactorEnabled exemptUntil } }
    }
  }
}`;
const COMPLIANCE = `query($o: ID!) { organization(id: $o) {
  requiresTwoFactor
  compliance { totalMembers membersWithoutTwoFactor ownersWithoutTwoFactor ownersWithoutPhishingResistant membersWithPhishingResistant membersExempt compliant }
} }`;
const GRANT = `mutation($o: ID!, $u: ID!, $until: DateTimeISO!) {
  exemptFromTwoFactor(organizationId: $o, userId: $u, until: $until, reason: "waiting for a key") { endsAt }
}`;
const DAY = 24 * 60 * 60 * 1000;

/**
 * previewTwoFactorRequirement (contract README, "Enforcement"): what requiring
 * would do now, changing nothing; its counts agree with compliance, and at size
 * every statement it sends is an index range (EXPLAINed on MariaDB).
 */
describe('previewTwoFactorRequirement', () => {
  let t: TestApp;
  let reader: string;
  let webAuthn: ReturnType<typeof webAuthnStandIn>;

  beforeAll(async () => {
    t = await startTestApp({ manualBackgroundWork: true });
    reader = await t.token('access-checker', ['twofactor:read']);
    webAuthn = webAuthnStandIn(t.app, t.clock);
  });
  afterAll(() => t?.close());

  const at = (days: number) => new Date(t.clock.now().getTime() + days * DAY).toISOString();
  const ok = async (query: string, variables: Record<string, unknown>, token: string) => {
    const result = await t.gql(query, variables, token);
    expect(result.errors).toBeUndefined();
    return result.data;
  };
  const preview = async (o: string, token: string, pr?: boolean, first?: number, after?: string) =>
    (await ok(PREVIEW, { o, pr, first, after }, token)).previewTwoFactorRequirement;

  describe('a small organization', () => {
    const org = uniqueId('org');
    let keyOwner: EnrolledUser;
    let totpOwner: EnrolledUser;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      keyOwner = await enrollTotp(t, `a-owner-${uniqueId('k')}`);
      await webAuthn.addFirstCredential(keyOwner.userId);
      totpOwner = await enrollTotp(t, `b-owner-${uniqueId('t')}`);
      ids.totp = (await enrollTotp(t, `c-totp-${uniqueId('m')}`)).userId;
      ids.none = `d-none-${uniqueId('m')}`;
      ids.exemptNone = `e-exempt-${uniqueId('m')}`;
      ids.key = (await enrollTotp(t, `f-key-${uniqueId('m')}`)).userId;
      await webAuthn.addFirstCredential(ids.key);
      ids.exemptTotp = (await enrollTotp(t, `g-exempt-totp-${uniqueId('m')}`)).userId;
      await syncOrganization(t, org, {
        [keyOwner.userId]: 'OWNER',
        [totpOwner.userId]: 'OWNER',
        ...Object.fromEntries(Object.values(ids).map((id) => [id, 'MEMBER' as const])),
      });
      for (const u of [ids.exemptNone, ids.exemptTotp]) await ok(GRANT, { o: org, u, until: at(20) }, keyOwner.token);
    });

    it('any factor: nobody blocks; the member without a factor is affected, the exempt one is not', async () => {
      const result = await preview(org, keyOwner.token);
      expect(result).toEqual({
        phishingResistant: false,
        totalMembers: 7,
        ownersBlocking: [],
        ownersBlockingCount: 0,
        membersAffected: 1,
        membersExempt: 1,
        affectedMembers: {
          totalCount: 1,
          pageInfo: { hasNextPage: false, endCursor: expect.any(String) },
          edges: [{ node: { user: { id: ids.none }, role: 'MEMBER', twoFactorEnabled: false, exemptUntil: null } }],
        },
      });
    });

    it('phishing-resistant: the owner without a key blocks, by name; owners count among the affected', async () => {
      const result = await preview(org, keyOwner.token, true);
      expect(result).toMatchObject({
        phishingResistant: true,
        totalMembers: 7,
        ownersBlocking: [totpOwner.userId],
        ownersBlockingCount: 1,
        membersAffected: 3,
        membersExempt: 2,
      });
      expect(result.affectedMembers.edges.map((edge: any) => edge.node.user.id)).toEqual([
        totpOwner.userId,
        ids.totp,
        ids.none,
      ]);
      // One page at a time, as Organization.members pages.
      const first = await preview(org, keyOwner.token, true, 2);
      expect(first.affectedMembers.edges.map((edge: any) => edge.node.user.id)).toEqual([totpOwner.userId, ids.totp]);
      expect(first.affectedMembers.pageInfo.hasNextPage).toBe(true);
      const next = await preview(org, keyOwner.token, true, 2, first.affectedMembers.pageInfo.endCursor);
      expect(next.affectedMembers.edges.map((edge: any) => edge.node.user.id)).toEqual([ids.none]);
      expect(next.affectedMembers.pageInfo.hasNextPage).toBe(false);
      // A cursor of the any-factor list is not one of this list.
      const anyFactor = await preview(org, keyOwner.token, false, 1);
      const foreign = await t.gql(
        PREVIEW,
        { o: org, pr: true, first: 1, after: anyFactor.affectedMembers.pageInfo.endCursor },
        keyOwner.token,
      );
      expect(errorCode(foreign)).toBe('BAD_USER_INPUT');
    });

    it('changes nothing', async () => {
      const before = await t.sql('SELECT COUNT(*) AS n FROM audit_events WHERE organization_id = ?', [org]);
      await preview(org, keyOwner.token, true);
      await preview(org, reader, false);
      expect(await t.sql('SELECT COUNT(*) AS n FROM audit_events WHERE organization_id = ?', [org])).toEqual(before);
      expect((await ok(COMPLIANCE, { o: org }, reader)).organization.requiresTwoFactor).toBe(false);
    });

    it('owners and twofactor:read only: a member, a stranger and an unknown organization get null with FORBIDDEN', async () => {
      expect((await preview(org, reader)).totalMembers).toBe(7);
      for (const [token, o] of [
        [await t.token(ids.totp), org],
        [await t.token(uniqueId('stranger')), org],
        [keyOwner.token, uniqueId('missing')],
      ]) {
        const result = await t.gql(PREVIEW, { o }, token);
        expect(errorCode(result)).toBe('FORBIDDEN');
        expect(result.data.previewTwoFactorRequirement).toBeNull();
      }
    });

    it('first from 1 to 100; a cursor that is none is BAD_USER_INPUT', async () => {
      for (const [first, after] of [
        [0, undefined],
        [101, undefined],
        [10, 'not-a-cursor'],
      ] as const) {
        const result = await t.gql(PREVIEW, { o: org, first, after }, keyOwner.token);
        expect([first, after, errorCode(result)]).toEqual([first, after, 'BAD_USER_INPUT']);
      }
    });

    it('what it says is what requiring then does', async () => {
      const blocked = await t.gql(
        'mutation($o: ID!) { requirePhishingResistantTwoFactor(organizationId: $o) { id } }',
        { o: org },
        keyOwner.token,
      );
      expect(errorCode(blocked)).toBe('OWNERS_WITHOUT_TWO_FACTOR');
      expect(blocked.errors![0].extensions!.userIds).toEqual((await preview(org, keyOwner.token, true)).ownersBlocking);
      await ok('mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }', { o: org }, keyOwner.token);
      const access = async (u: string) =>
        (
          await ok(
            'query($o: ID!, $u: ID!) { organizationAccess(organizationId: $o, userId: $u) { allowed } }',
            { o: org, u },
            reader,
          )
        ).organizationAccess.allowed;
      const affected = (await preview(org, keyOwner.token)).affectedMembers.edges.map((edge: any) => edge.node.user.id);
      for (const id of Object.values(ids)) expect([id, await access(id)]).toEqual([id, !affected.includes(id)]);
    });
  });

  /**
   * At size: members seeded with SQL as the bench seeds them (60 % with two-factor,
   * 30 % with a key), every 7th of those without two-factor exempt (some of them
   * ending soon), so the counts and the page have exemptions to skip.
   */
  describe('at 20,000 members, on MariaDB', () => {
    const org = uniqueId('big');
    const MEMBERS = 20_000;
    const OWNERS = 10;

    beforeAll(async () => {
      const now = t.clock.now();
      const user = `CONCAT('${org}-u', LPAD(seq, 6, '0'))`;
      // A key is a key set (docs/adr/0021-key-sets.md): one of no known model, as a key registered without attestation.
      const anyKey = '00000000-0000-0000-0000-000000000000:u:s';
      await t.sql('INSERT IGNORE INTO key_sets (digest, kinds) VALUES (SHA2(?, 256), ?)', [anyKey, anyKey]);
      const [{ id: keySet }] = await t.sql('SELECT id FROM key_sets WHERE kinds = ?', [anyKey]);
      await t.sql(
        `INSERT INTO memberships (organization_id, user_id, role, two_factor_enabled, phishing_resistant, key_set_id, created_at)
         SELECT ?, ${user}, IF(seq <= ${OWNERS}, 'OWNER', 'MEMBER'), seq % 5 < 3, seq % 10 < 3, IF(seq % 10 < 3, ?, 0), ?
           FROM seq_1_to_${MEMBERS}`,
        [org, keySet, now],
      );
      // Owners all have two-factor (requiring it is possible); members without it are the 40 %.
      await t.sql(`UPDATE memberships SET two_factor_enabled = 1 WHERE organization_id = ? AND role = 'OWNER'`, [org]);
      await t.sql(
        `INSERT INTO two_factor_exemptions (organization_id, user_id, reason, granted_by, granted_at, ends_at)
         SELECT organization_id, user_id, 'seeded', 'seed', ?, IF(CRC32(user_id) % 3 = 0, ?, ?) FROM memberships
          WHERE organization_id = ? AND role = 'MEMBER' AND two_factor_enabled = 0 AND CRC32(user_id) % 7 = 0`,
        [now, new Date(now.getTime() + 2 * DAY), new Date(now.getTime() + 30 * DAY), org],
      );
      // Counters as the service keeps them, from the rows.
      const count = (who: string, column: string, value: number) => `SUM(role = '${who}' AND ${column} = ${value})`;
      await t.sql(
        `INSERT INTO organizations (id, name, requires_two_factor, requires_phishing_resistant, allows_trusted_devices,
           owners_with_two_factor, owners_without_two_factor, members_with_two_factor, members_without_two_factor,
           owners_with_phishing_resistant, owners_without_phishing_resistant, members_with_phishing_resistant,
           members_without_phishing_resistant, created_at, updated_at)
         SELECT ?, 'Big', 0, 0, 1,
           ${count('OWNER', 'two_factor_enabled', 1)}, ${count('OWNER', 'two_factor_enabled', 0)},
           ${count('MEMBER', 'two_factor_enabled', 1)}, ${count('MEMBER', 'two_factor_enabled', 0)},
           ${count('OWNER', 'phishing_resistant', 1)}, ${count('OWNER', 'phishing_resistant', 0)},
           ${count('MEMBER', 'phishing_resistant', 1)}, ${count('MEMBER', 'phishing_resistant', 0)}, ?, ?
         FROM memberships WHERE organization_id = ?`,
        [org, now, now, org],
      );
      await t.sql(
        `INSERT INTO organization_key_set_counts (organization_id, key_set_id, role, two_factor_enabled, members)
         SELECT organization_id, key_set_id, role, two_factor_enabled, COUNT(*) FROM memberships WHERE organization_id = ?
          GROUP BY organization_id, key_set_id, role, two_factor_enabled`,
        [org],
      );
      await t.sql('ANALYZE TABLE memberships, two_factor_exemptions, organizations');
    }, 60_000);

    /** What the rows say, counted the slow way: the truth the fast counts must agree with. */
    async function truth(phishingResistant: boolean) {
      const column = phishingResistant ? 'phishing_resistant' : 'two_factor_enabled';
      const [row] = await t.sql(
        `SELECT SUM(e.user_id IS NULL) AS affected, SUM(e.user_id IS NOT NULL) AS exempt, SUM(m.role = 'OWNER') AS owners
           FROM memberships m LEFT JOIN two_factor_exemptions e
             ON e.organization_id = m.organization_id AND e.user_id = m.user_id AND e.ends_at > ?
          WHERE m.organization_id = ? AND m.${column} = 0`,
        [t.clock.now(), org],
      );
      return { affected: Number(row.affected), exempt: Number(row.exempt), owners: Number(row.owners) };
    }

    it('counts agree with compliance and with the rows, for both requirements, and after exemptions end', async () => {
      for (const moment of ['now', 'after the soonest exemptions ended'] as const) {
        if (moment !== 'now') t.clock.advance(3 * DAY);
        const compliance = (await ok(COMPLIANCE, { o: org }, reader)).organization.compliance;
        const anyFactor = await preview(org, reader, false);
        const keys = await preview(org, reader, true);
        const [anyTruth, keysTruth] = [await truth(false), await truth(true)];
        expect({ moment, ...anyTruth }).toEqual({
          moment,
          affected: anyFactor.membersAffected,
          exempt: anyFactor.membersExempt,
          owners: anyFactor.ownersBlockingCount,
        });
        expect({ moment, ...keysTruth }).toEqual({
          moment,
          affected: keys.membersAffected,
          exempt: keys.membersExempt,
          owners: keys.ownersBlockingCount,
        });
        expect(anyFactor.membersExempt).toBeGreaterThan(100);
        // compliance and the preview of the organization's own requirement (none yet: any factor) agree.
        expect(compliance.totalMembers).toBe(MEMBERS);
        expect(anyFactor.totalMembers).toBe(MEMBERS);
        expect(compliance.membersExempt).toBe(anyFactor.membersExempt);
        expect(compliance.membersWithoutTwoFactor).toBe(anyFactor.membersAffected + anyFactor.membersExempt);
        expect(compliance.ownersWithoutTwoFactor).toBe(anyFactor.ownersBlockingCount);
        expect(compliance.ownersWithoutPhishingResistant).toBe(keys.ownersBlockingCount);
        expect(MEMBERS - compliance.membersWithPhishingResistant).toBe(keys.membersAffected + keys.membersExempt);
        expect(anyFactor.affectedMembers.totalCount).toBe(anyFactor.membersAffected);
        expect(keys.ownersBlocking).toHaveLength(Math.min(100, keys.ownersBlockingCount));
      }
    });

    it('the affected pages walk every affected member once, in user-id order', async () => {
      const seen: string[] = [];
      let after: string | undefined;
      let expected = 0;
      for (let pages = 0; pages < 200; pages += 1) {
        const page = (await preview(org, reader, false, 100, after)).affectedMembers;
        expected = page.totalCount;
        seen.push(...page.edges.map((edge: any) => edge.node.user.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toHaveLength(expected);
      expect([...seen].sort()).toEqual(seen);
      expect(new Set(seen).size).toBe(seen.length);
    }, 60_000);

    it('a page after a cursor starts at the cursor: a range over (organization, flag, user), not a scan from the first', async () => {
      // A cursor deep in the list, from walking the pages once.
      const MEMBERS_PAGE = `query($o: ID!, $after: String, $pr: Boolean) { organization(id: $o) {
        members(first: 100, after: $after, filter: { phishingResistant: $pr }) { pageInfo { endCursor } } } }`;
      const deep = { affected: undefined as string | undefined, members: undefined as string | undefined };
      for (let pages = 0; pages < 40; pages += 1) {
        deep.affected = (await preview(org, reader, false, 100, deep.affected)).affectedMembers.pageInfo.endCursor;
        deep.members = (
          await ok(MEMBERS_PAGE, { o: org, after: deep.members, pr: false }, reader)
        ).organization.members.pageInfo.endCursor;
      }
      const statements = await statementsOf(t, async () => {
        await preview(org, reader, false, 50, deep.affected);
        await ok(MEMBERS_PAGE, { o: org, after: deep.members, pr: false }, reader);
      });
      const pages = statements.filter(({ query }) => /FROM memberships m?\s*(USE|FORCE) INDEX/.test(query));
      expect(pages).toHaveLength(2);
      for (const { query, parameters } of pages) {
        const [{ EXPLAIN: json }] = await t.sql(`EXPLAIN FORMAT=JSON ${query}`, parameters);
        const plan = JSON.parse(json);
        const memberships = plan.query_block.nested_loop?.[0]?.table ?? plan.query_block.table;
        expect({ query, access: memberships.access_type, parts: memberships.used_key_parts }).toEqual({
          query,
          access: 'range',
          parts: ['organization_id', expect.any(String), 'user_id'],
        });
      }
    }, 60_000);

    it('every statement it sends is an index range or a primary-key lookup (EXPLAIN)', async () => {
      const statements = await statementsOf(t, async () => {
        for (const pr of [false, true]) await preview(org, reader, pr, 50);
        await ok(
          'query($o: ID!) { organization(id: $o) { compliance { membersExempt } twoFactorExemptions(first: 50) { totalCount edges { node { userId } } } } }',
          { o: org },
          reader,
        );
      });
      expect(statements.length).toBeGreaterThanOrEqual(6);
      for (const { query, parameters } of statements) {
        const [{ EXPLAIN: json }] = await t.sql(`EXPLAIN FORMAT=JSON ${query}`, parameters);
        const plan = JSON.stringify(JSON.parse(json));
        // No scan of a whole table or index, no sort of rows: each table read by an index, in its order.
        expect({ query, full: /"access_type":\s*"(ALL|index)"/.test(plan) }).toEqual({ query, full: false });
        expect({ query, filesort: /filesort/.test(plan) }).toEqual({ query, filesort: false });
      }
      // The affected page reads its index in user-id order and stops after the page (ANALYZE: the rows it read).
      const page = statements.find(({ query }) => /LEFT JOIN two_factor_exemptions/.test(query))!;
      const [{ ANALYZE: analyzed }] = await t.sql(`ANALYZE FORMAT=JSON ${page.query}`, page.parameters);
      const membershipsRead = JSON.parse(analyzed).query_block.nested_loop[0].table;
      expect(membershipsRead.key).toBe('idx_memberships_org_tfa_user');
      expect(membershipsRead.r_rows).toBeLessThan(51 * 2);
    });
  });
});

/** The SQL statements (with their parameters) that `work` sends, as TypeORM logs them. */
async function statementsOf(t: TestApp, work: () => Promise<unknown>) {
  const logger = t.app.database.dataSource.logger as { logQuery: (query: string, parameters?: unknown[]) => unknown };
  const original = logger.logQuery.bind(logger);
  const statements: { query: string; parameters: unknown[] }[] = [];
  logger.logQuery = (query, parameters) => {
    if (/^SELECT/i.test(query.trim())) statements.push({ query, parameters: parameters ?? [] });
    return original(query, parameters);
  };
  try {
    await work();
  } finally {
    logger.logQuery = original;
  }
  return statements;
}
