import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';
import { createEndpoint, PRIVATE_WEBHOOKS, settled, WebhookReceiver } from '../support/webhook-receiver';

const GRANT = `mutation($o: ID!, $u: ID!, $until: DateTimeISO!) {
  exemptFromTwoFactor(organizationId: $o, userId: $u, until: $until, reason: "racing") { endsAt }
}`;
const SET_ROLE =
  'mutation($o: ID!, $u: ID!, $r: OrganizationRole!) { setMembership(organizationId: $o, userId: $u, role: $r) { role } }';
const DAY = 24 * 60 * 60 * 1000;
const ROUNDS = 15;

/**
 * Exemptions under concurrency (docs/adr/0002-lock-order.md): a grant and the
 * member's promotion to owner take the member's user row, then the
 * organization's, so one of them wins whole; and instances ending exemptions
 * that ran out end each once.
 */
describe('exemptions racing', () => {
  let t: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({ env: PRIVATE_WEBHOOKS, manualBackgroundWork: true });
    b = await startTestApp({
      env: PRIVATE_WEBHOOKS,
      databaseUrl: t.databaseUrl,
      clock: t.clock,
      manualBackgroundWork: true,
    });
    receiver = await WebhookReceiver.start(() => 204);
    await createEndpoint(t, receiver.url);
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
    await receiver?.close();
  });

  it(`a grant while the member is promoted to owner: never an exempt owner, every outcome whole (${ROUNDS} rounds)`, async () => {
    const directory = await t.token('directory-sync', ['twofactor:directory']);
    const outcomes = { grantFirst: 0, promotionFirst: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      const org = uniqueId(`race-${round}`);
      const owner = await enrollTotp(t, uniqueId('owner'));
      const member = uniqueId('member');
      await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member]: 'MEMBER' });
      const until = new Date(t.clock.now().getTime() + 5 * DAY).toISOString();
      // Grants spread over a few milliseconds on both instances, the promotion starting later each round,
      // so they meet at every point from before the grants' checks to after their commits.
      const delays = [0, 2, 4, 6, 8, 10];
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const [promoted, ...grants] = await Promise.all([
        sleep(round).then(() => b.gql(SET_ROLE, { o: org, u: member, r: 'OWNER' }, directory)),
        ...delays.map((delay, index) =>
          sleep(delay).then(() => (index % 2 === 0 ? t : b).gql(GRANT, { o: org, u: member, until }, owner.token)),
        ),
      ]);
      expect(promoted.errors).toBeUndefined();

      const exemptions = await t.sql('SELECT user_id FROM two_factor_exemptions WHERE organization_id = ?', [org]);
      const [membership] = await t.sql('SELECT role FROM memberships WHERE organization_id = ? AND user_id = ?', [
        org,
        member,
      ]);
      const audit = await t.sql(
        "SELECT action, reason FROM audit_events WHERE organization_id = ? AND action LIKE 'TWO_FACTOR_EXEMPTION%' ORDER BY id",
        [org],
      );
      // The invariant, read from the database itself: an owner is never exempt.
      expect({ round, role: membership.role, exemptions }).toEqual({ round, role: 'OWNER', exemptions: [] });
      const granted = grants.filter((result) => result.errors === undefined).length;
      const codes = grants.map((result) => errorCode(result) ?? 'OK');
      // Every grant that lost saw an owner; every grant that won was ended by the promotion, with an event.
      expect(codes.every((code) => code === 'OK' || code === 'BAD_USER_INPUT')).toBe(true);
      const ends = audit.filter((row) => row.action === 'TWO_FACTOR_EXEMPTION_ENDED');
      expect({ round, grants: audit.length - ends.length }).toEqual({ round, grants: granted });
      if (granted === 0) {
        outcomes.promotionFirst += 1;
        expect(ends).toEqual([]);
      } else {
        outcomes.grantFirst += 1;
        // Grants that came before the promotion replaced each other; the promotion ended the last.
        expect(ends).toEqual([{ action: 'TWO_FACTOR_EXEMPTION_ENDED', reason: 'the member became an owner' }]);
        // No grant came after it: its end is the last word.
        expect(audit.at(-1)).toEqual(ends[0]);
      }
    }
    expect(outcomes.grantFirst + outcomes.promotionFirst).toBe(ROUNDS);
  }, 120_000);

  it('two instances ending exemptions that ran out: each ended, and announced, once', async () => {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const members = Array.from({ length: 30 }, (_, index) => `${uniqueId('m')}-${index}`);
    await syncOrganization(t, org, {
      [owner.userId]: 'OWNER',
      ...Object.fromEntries(members.map((member) => [member, 'MEMBER' as const])),
    });
    const until = new Date(t.clock.now().getTime() + DAY);
    for (const [index, member] of members.entries()) {
      const result = await (index % 2 === 0 ? t : b).gql(
        GRANT,
        { o: org, u: member, until: new Date(until.getTime() + (index % 3)).toISOString() },
        owner.token,
      );
      expect(result.errors).toBeUndefined();
    }
    t.clock.set(new Date(until.getTime() + 10));
    const together = () => Promise.all([t.app.runBackgroundJobs(), b.app.runBackgroundJobs()]);
    await Promise.all([together(), together(), together()]);
    const ended = await t.sql(
      "SELECT user_id FROM audit_events WHERE organization_id = ? AND action = 'TWO_FACTOR_EXEMPTION_ENDED'",
      [org],
    );
    expect(ended.map((row) => row.user_id).sort()).toEqual([...members].sort());
    await settled(t, b);
    const events = receiver
      .ofType('organization.exemption_ended')
      .filter((request) => request.event.data.organizationId === org);
    expect(events.map((request) => request.event.data.userId).sort()).toEqual([...members].sort());
    expect(await t.sql('SELECT * FROM two_factor_exemptions WHERE organization_id = ?', [org])).toEqual([]);
  }, 60_000);
});
