import { syncOrganization } from '../support/directory';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';
import { ocsfProblems } from './ocsf/ocsf-validator';

/**
 * GET /audit/ocsf: every audit event as an OCSF 1.7.0 record, NDJSON in id
 * order, keyset pages with a Link to the next; a bearer token with
 * twofactor:read (contract: README.md, "Security signals").
 */

interface Page {
  status: number;
  contentType: string | null;
  link: string | null;
  body: string;
  records: any[];
  headers: Headers;
}

describe('GET /audit/ocsf', () => {
  let t: TestApp;
  let reader: string;
  const owner = uniqueId('owner');
  const member = uniqueId('member');
  const org = uniqueId('org');

  beforeAll(async () => {
    t = await startTestApp();
    reader = await t.token('siem', ['twofactor:read']);
    const enrolled = await enrollTotp(t, owner);
    await syncOrganization(t, org, { [owner]: 'OWNER', [member]: 'MEMBER' });
    const required = await t.gql(
      'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }',
      { o: org },
      enrolled.token,
    );
    expect(required.errors).toBeUndefined();
    await enrollTotp(t, member);
  });
  afterAll(() => t.close());

  async function get(query: string, token?: string | null, headers: Record<string, string> = {}): Promise<Page> {
    const response = await fetch(`${t.url}/audit/ocsf${query}`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
    const body = await response.text();
    const isNdjson = response.headers.get('content-type')?.startsWith('application/x-ndjson') ?? false;
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      link: response.headers.get('link'),
      body,
      records: isNdjson
        ? body
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line))
        : [],
      headers: response.headers,
    };
  }

  /** The next page's address from a Link header: `<...>; rel="next"`. */
  function nextOf(page: Page): string {
    const match = /^<(\/audit\/ocsf\?[^>]*)>; rel="next"$/.exec(page.link ?? '');
    if (!match) throw new Error(`no next link: ${page.link}`);
    return match[1].slice('/audit/ocsf'.length);
  }

  const storedIds = async () =>
    (await t.sql('SELECT id FROM audit_events ORDER BY id ASC')).map((row: any) => String(row.id));

  describe('who may read', () => {
    it('is 401 without a token, saying how to authenticate', async () => {
      const page = await get('');
      expect(page.status).toBe(401);
      expect(page.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
      expect(JSON.parse(page.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    });

    it('is 401 with a token that is not valid', async () => {
      const page = await get('', 'not.a.token');
      expect(page.status).toBe(401);
      expect(JSON.parse(page.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect((await get('', null, { authorization: 'Basic c2llbTpzaWVt' })).status).toBe(401);
    });

    it.each([[[]], [['twofactor:admin']], [['twofactor:directory', 'twofactor:login']]])(
      'is 403 for a valid token without twofactor:read (scopes %j)',
      async (scopes) => {
        const page = await get('', await t.token('someone', scopes));
        expect(page.status).toBe(403);
        expect(page.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
        expect(JSON.parse(page.body).errors[0].extensions.code).toBe('FORBIDDEN');
        expect(page.records).toEqual([]);
      },
    );

    it("is 403 for a user reading its own events: the feed is every user's", async () => {
      expect((await get('', await t.token(member))).status).toBe(403);
    });
  });

  describe('bad input', () => {
    it.each(['0', '1001', '-1', '1.5', 'ten', '', '1e3', ' 5'])('is 400 for limit=%j', async (limit) => {
      const page = await get(`?limit=${encodeURIComponent(limit)}`, reader);
      expect(page.status).toBe(400);
      expect(JSON.parse(page.body).errors[0]).toMatchObject({
        message: expect.stringContaining('1 to 1000'),
        extensions: { code: 'BAD_USER_INPUT' },
      });
    });

    it('is 400 for a limit given twice', async () => {
      expect((await get('?limit=1&limit=2', reader)).status).toBe(400);
    });

    it("is 400 for a cursor that is not one of this feed's", async () => {
      // A cursor of the GraphQL auditEvents list is not one of the feed's.
      const listed = await t.gql('{ auditEvents(first: 1) { pageInfo { endCursor } } }', {}, reader);
      for (const after of ['nonsense', '!!', 'x'.repeat(2000), listed.data.auditEvents.pageInfo.endCursor]) {
        const page = await get(`?after=${encodeURIComponent(after)}`, reader);
        expect(page.status).toBe(400);
        expect(JSON.parse(page.body).errors[0].extensions.code).toBe('BAD_USER_INPUT');
      }
    });
  });

  describe('a reader', () => {
    it('gets NDJSON in id order, one OCSF 1.7.0 record a line, with a Link to the next page', async () => {
      const page = await get('', reader);
      expect(page.status).toBe(200);
      expect(page.contentType).toBe('application/x-ndjson; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.body.endsWith('\n')).toBe(true);
      expect(page.records.map((record) => record.metadata.uid)).toEqual(await storedIds());
      for (const record of page.records) expect(ocsfProblems(record)).toEqual([]);
      expect(page.link).toMatch(/^<\/audit\/ocsf\?after=[A-Za-z0-9_-]+&limit=100>; rel="next"$/);
    });

    it('walks every event exactly once in pages of 2, then polls an empty page that points at the same place', async () => {
      const ids: string[] = [];
      let query = '?limit=2';
      let last: Page | undefined;
      for (let pages = 0; pages < 100; pages += 1) {
        last = await get(query, reader);
        expect(last.status).toBe(200);
        expect(last.records.length).toBeLessThanOrEqual(2);
        ids.push(...last.records.map((record) => record.metadata.uid));
        query = nextOf(last);
        if (last.records.length === 0) break;
      }
      expect(ids).toEqual(await storedIds());
      expect(last!.records).toEqual([]);
      expect(last!.body).toBe('');
      // The empty page's link is where the next event will be: a SIEM polls it.
      const again = await get(query, reader);
      expect(again.records).toEqual([]);
      expect(nextOf(again)).toBe(query);
      await syncOrganization(t, uniqueId('later-org'), { [member]: 'MEMBER' });
      const fresh = await get(query, reader);
      expect(fresh.records.map((record) => record.metadata.event_code)).toEqual([
        'ORGANIZATION_UPSERTED',
        'MEMBERSHIP_SET',
      ]);
      expect(fresh.records.map((record) => record.metadata.uid)).toEqual((await storedIds()).slice(ids.length));
      expect(fresh.records.length).toBeGreaterThan(0);
    });

    it('shows each record as AuditEvent.ocsf shows it to the same reader', async () => {
      const page = await get('?limit=1000', reader);
      const listed = await t.gql('{ auditEvents(first: 100) { edges { node { id action ocsf } } } }', {}, reader);
      expect(listed.errors).toBeUndefined();
      const byId = new Map(page.records.map((record) => [record.metadata.uid, record]));
      expect(listed.data.auditEvents.edges.length).toBeGreaterThan(5);
      for (const { node } of listed.data.auditEvents.edges) {
        expect(node.ocsf).toEqual(byId.get(node.id));
        expect(node.ocsf.metadata.event_code).toBe(node.action);
      }
    });

    it('maps the TOTP enrollment and the organization policy as OCSF defines them', async () => {
      const { records } = await get('?limit=1000', reader);
      const of = (action: string, userId?: string) =>
        records.find(
          (record) => record.metadata.event_code === action && (userId === undefined || record.user?.uid === userId),
        );
      expect(of('TOTP_ENABLED', member)).toMatchObject({
        class_uid: 3001,
        activity_id: 10,
        auth_factors: [{ factor_type_id: 7 }],
        actor: { user: { uid: member } },
        src_endpoint: { ip: expect.any(String) },
      });
      expect(of('ORGANIZATION_REQUIRED_TWO_FACTOR')).toMatchObject({
        class_uid: 3004,
        activity_id: 8,
        entity: { type_id: 5, org: { uid: org } },
        actor: { user: { uid: owner } },
      });
    });
  });

  describe('AuditEvent.ocsf for callers other than twofactor:read', () => {
    it("hides the address where auditEvents hides clientIp (an owner reading a member's event)", async () => {
      const ownerToken = await t.token(owner);
      const listed = await t.gql(
        'query($o: ID!) { auditEvents(organizationId: $o, first: 100) { edges { node { action actorId clientIp ocsf } } } }',
        { o: org },
        ownerToken,
      );
      expect(listed.errors).toBeUndefined();
      const nodes = listed.data.auditEvents.edges.map((edge: any) => edge.node);
      expect(nodes.length).toBeGreaterThan(0);
      for (const node of nodes) {
        expect(ocsfProblems(node.ocsf)).toEqual([]);
        if (node.clientIp === null) expect(node.ocsf.src_endpoint).toBeUndefined();
        else expect(node.ocsf.src_endpoint).toEqual({ ip: node.clientIp });
      }
      expect(nodes.some((node: any) => node.clientIp === null)).toBe(true);
    });
  });
});
