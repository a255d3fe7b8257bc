import { syncOrganization } from '../support/directory';
import { startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp, type EnrolledUser } from '../support/two-factor';
import { createEndpoint, PRIVATE_WEBHOOKS, settled, WebhookReceiver } from '../support/webhook-receiver';

const REQUIRE = 'mutation($o: ID!, $d: Int) { requireTwoFactor(organizationId: $o, gracePeriodDays: $d) { id } }';
const STOP = 'mutation($o: ID!) { stopRequiringTwoFactor(organizationId: $o) { id } }';
const GRANT = `mutation($o: ID!, $u: ID!, $until: DateTimeISO!) {
  exemptFromTwoFactor(organizationId: $o, userId: $u, until: $until, reason: "on leave") { endsAt }
}`;
const DAY = 24 * 60 * 60 * 1000;

/** What a test reads of a reminder: its kind and what its event says. */
type Reminder = [type: string, daysLeft: number | undefined, graceEndsAt: string, membersAffected: number];

/**
 * A grace period's reminders (contract README, "Enforcement"): 7 days and 1 day
 * before it ends and when it ends, each once per grace period whatever the
 * number of instances, late rather than never; a lead longer than the grace
 * period is skipped, one equal to it is due at once. Time moves by ManualClock;
 * the job runs when the test runs it.
 */
describe('grace period reminders', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({ env: PRIVATE_WEBHOOKS, manualBackgroundWork: true });
    receiver = await WebhookReceiver.start(() => 204);
    await createEndpoint(t, receiver.url);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const ok = async (result: Promise<{ errors?: unknown; data: any }>) => {
    const answer = await result;
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };
  const advanceTo = (time: number) => t.clock.set(new Date(time));

  /**
   * An organization with an owner and two members without two-factor, one of
   * them exempt for longer than any grace period here: one member affected.
   */
  async function organization(): Promise<{ org: string; owner: EnrolledUser }> {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const [exempt, refused] = [uniqueId('exempt'), uniqueId('refused')];
    await syncOrganization(t, org, { [owner.userId]: 'OWNER', [exempt]: 'MEMBER', [refused]: 'MEMBER' });
    const until = new Date(t.clock.now().getTime() + 90 * DAY).toISOString();
    await ok(t.gql(GRANT, { o: org, u: exempt, until }, owner.token));
    return { org, owner };
  }
  /** Requires two-factor with a grace period of `days`; when it ends. */
  async function require(org: string, owner: EnrolledUser, days: number): Promise<number> {
    await ok(t.gql(REQUIRE, { o: org, d: days }, owner.token));
    return t.clock.now().getTime() + days * DAY;
  }
  /** The reminders the organization's receiver got, in order (after the job ran). */
  async function remindersOf(org: string, ...apps: TestApp[]): Promise<Reminder[]> {
    await settled(...(apps.length > 0 ? apps : [t]));
    return receiver.received
      .filter(
        (request) => request.event.data.organizationId === org && request.event.type.startsWith('organization.grace'),
      )
      .map(({ event: { type, data } }) => [
        type,
        (data.daysLeft as number | undefined) ?? undefined,
        data.graceEndsAt as string,
        data.membersAffected as number,
      ]);
  }
  const ending = (daysLeft: number, endsAt: number): Reminder => [
    'organization.grace_period_ending',
    daysLeft,
    new Date(endsAt).toISOString(),
    1,
  ];
  const ended = (endsAt: number): Reminder => [
    'organization.grace_period_ended',
    undefined,
    new Date(endsAt).toISOString(),
    1,
  ];
  const audited = async (org: string) =>
    (
      await t.sql(
        "SELECT action, reason, actor_id FROM audit_events WHERE organization_id = ? AND action LIKE 'ORGANIZATION_GRACE_PERIOD_END%' ORDER BY id",
        [org],
      )
    ).map((row) => [row.action, row.reason, row.actor_id]);

  it('7 days and 1 day before the end, and at the end: each once, when due', async () => {
    const { org, owner } = await organization();
    const endsAt = await require(org, owner, 10);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([]);

    advanceTo(endsAt - 7 * DAY - 1);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([]);
    advanceTo(endsAt - 7 * DAY);
    await t.app.runBackgroundJobs();
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(7, endsAt)]);

    advanceTo(endsAt - DAY);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(7, endsAt), ending(1, endsAt)]);

    advanceTo(endsAt);
    await t.app.runBackgroundJobs();
    advanceTo(endsAt + 30 * DAY);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(7, endsAt), ending(1, endsAt), ended(endsAt)]);
    expect(await audited(org)).toEqual([
      ['ORGANIZATION_GRACE_PERIOD_ENDING', 'grace period ends in 7 days', null],
      ['ORGANIZATION_GRACE_PERIOD_ENDING', 'grace period ends in 1 day', null],
      ['ORGANIZATION_GRACE_PERIOD_ENDED', 'grace period ended', null],
    ]);
  });

  it('a lead longer than the grace period is skipped', async () => {
    const { org, owner } = await organization();
    const endsAt = await require(org, owner, 3);
    await t.app.runBackgroundJobs();
    advanceTo(endsAt - DAY);
    await t.app.runBackgroundJobs();
    advanceTo(endsAt);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(1, endsAt), ended(endsAt)]);
  });

  it.each([1, 7])('a lead equal to the grace period (%i days) is due at once', async (days) => {
    const { org, owner } = await organization();
    const endsAt = await require(org, owner, days);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(days, endsAt)]);
  });

  it('late rather than never: after downtime past the end, every reminder once, in order', async () => {
    const { org, owner } = await organization();
    const endsAt = await require(org, owner, 10);
    advanceTo(endsAt + 5 * DAY);
    await t.app.runBackgroundJobs();
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(7, endsAt), ending(1, endsAt), ended(endsAt)]);
  });

  it('a grace period given anew has reminders of its own; a stopped one has no more', async () => {
    const { org, owner } = await organization();
    const firstEnd = await require(org, owner, 10);
    advanceTo(firstEnd - 7 * DAY);
    await t.app.runBackgroundJobs();
    const secondEnd = await require(org, owner, 10);
    advanceTo(secondEnd - 7 * DAY);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(7, firstEnd), ending(7, secondEnd)]);
    await ok(t.gql(STOP, { o: org }, owner.token));
    advanceTo(secondEnd + DAY);
    await t.app.runBackgroundJobs();
    expect(await remindersOf(org)).toEqual([ending(7, firstEnd), ending(7, secondEnd)]);
  });

  describe('two instances on one database', () => {
    let b: TestApp;
    beforeAll(async () => {
      b = await startTestApp({
        env: PRIVATE_WEBHOOKS,
        databaseUrl: t.databaseUrl,
        clock: t.clock,
        manualBackgroundWork: true,
      });
    });
    afterAll(() => b?.close());

    it('run the job together, again and again: one event per reminder', async () => {
      const organizations = await Promise.all(Array.from({ length: 12 }, () => organization()));
      // A 1-day grace period: its 1-day reminder is due at once, its end a day later.
      const ends = await Promise.all(organizations.map(({ org, owner }) => require(org, owner, 1)));
      const together = () => Promise.all([t.app.runBackgroundJobs(), b.app.runBackgroundJobs()]);
      await Promise.all([together(), together(), together()]);
      advanceTo(Math.max(...ends));
      await Promise.all([together(), together(), together()]);
      for (const [index, { org }] of organizations.entries()) {
        expect([org, await remindersOf(org, t, b)]).toEqual([org, [ending(1, ends[index]), ended(ends[index])]]);
        expect((await audited(org)).map(([action]) => action)).toEqual([
          'ORGANIZATION_GRACE_PERIOD_ENDING',
          'ORGANIZATION_GRACE_PERIOD_ENDED',
        ]);
      }
    }, 60_000);
  });
});
