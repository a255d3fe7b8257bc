import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { enrollTotp } from '../support/two-factor';

const REQUIRE = 'mutation($o: ID!) { requireTwoFactor(organizationId: $o) { requiresTwoFactor } }';
const DISABLE = 'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }';
const ROUNDS = 15;

/**
 * requireTwoFactor checks the owners and changes the policy atomically: an owner
 * turning two-factor off at the same moment either goes first (and the policy is
 * refused) or is refused itself. Never both.
 */
describe('requireTwoFactor racing an owner who disables two-factor', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
  });
  afterAll(() => t.close());

  it(`never ends with the policy on and an owner without two-factor (${ROUNDS} rounds)`, async () => {
    const outcomes = { policyWon: 0, disableWon: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      const org = uniqueId(`race-${round}`);
      const requester = await enrollTotp(t, uniqueId('requester'));
      const leaver = await enrollTotp(t, uniqueId('leaver'));
      await syncOrganization(t, org, { [requester.userId]: 'OWNER', [leaver.userId]: 'OWNER' });

      // Fired together: the disable, and requests to require two-factor spread over
      // the milliseconds the disable takes, starting later each round, so they meet
      // it at every point from before its check to after its commit.
      const delays = [0, 1, 2, 4, 7, 11].map((delay) => delay + round * 2);
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      const [disabled, ...requires] = await Promise.all([
        t.gql(DISABLE, { c: leaver.recoveryCodes[round % 10] }, leaver.token),
        ...delays.map((delay) => sleep(delay).then(() => t.gql(REQUIRE, { o: org }, requester.token))),
      ]);

      const [organization] = await t.sql(
        'SELECT requires_two_factor, owners_without_two_factor, owners_with_two_factor FROM organizations WHERE id = ?',
        [org],
      );
      const [user] = await t.sql('SELECT two_factor_enabled FROM users WHERE id = ?', [leaver.userId]);
      const [membership] = await t.sql(
        'SELECT two_factor_enabled FROM memberships WHERE organization_id = ? AND user_id = ?',
        [org, leaver.userId],
      );

      // The invariant, read from the database itself.
      expect({ round, broken: organization.requires_two_factor === 1 && user.two_factor_enabled === 0 }).toEqual({
        round,
        broken: false,
      });
      const requireCodes = requires.map((result) => errorCode(result) ?? 'OK');
      if (disabled.errors === undefined) {
        // The owner left first: every request to require it was refused, naming the owner.
        outcomes.disableWon += 1;
        expect(disabled.data.disableTwoFactor.enabled).toBe(false);
        expect({ round, requireCodes }).toEqual({ round, requireCodes: delays.map(() => 'OWNERS_WITHOUT_TWO_FACTOR') });
        for (const result of requires) expect(result.errors![0].extensions!.userIds).toEqual([leaver.userId]);
        expect(organization.requires_two_factor).toBe(0);
      } else {
        // The policy came first: the owner keeps two-factor, and every request to require it passed.
        outcomes.policyWon += 1;
        expect({ round, code: errorCode(disabled) }).toEqual({ round, code: 'TWO_FACTOR_REQUIRED_BY_ORGANIZATION' });
        expect({ round, requireCodes }).toEqual({ round, requireCodes: delays.map(() => 'OK') });
        expect(user.two_factor_enabled).toBe(1);
        expect(organization.requires_two_factor).toBe(1);
      }
      // The maintained copies agree with the user's row.
      expect(membership.two_factor_enabled).toBe(user.two_factor_enabled);
      expect(Number(organization.owners_without_two_factor)).toBe(user.two_factor_enabled ? 0 : 1);
      expect(Number(organization.owners_with_two_factor)).toBe(user.two_factor_enabled ? 2 : 1);
    }
    expect(outcomes.policyWon + outcomes.disableWon).toBe(ROUNDS);
  });
});
