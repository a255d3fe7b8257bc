import { syncOrganization } from '../support/directory';
import { errorCode, startTestApp, type TestApp, uniqueId } from '../support/test-app';
import { currentTotp, enrollTotp, nextStep } from '../support/two-factor';

const RESET = `mutation($u: ID!, $r: String!) {
  resetTwoFactor(userId: $u, reason: $r) { enabled locked methods totp { createdAt } sms { phoneNumberMasked } recoveryCodesRemaining enabledAt }
}`;
const DISABLED = {
  enabled: false,
  locked: false,
  methods: [],
  totp: null,
  sms: null,
  recoveryCodesRemaining: 0,
  enabledAt: null,
};
const STATUS = '{ me { twoFactor { enabled locked methods recoveryCodesRemaining } } }';
const VIEW_CODES = 'mutation($c: String!) { viewRecoveryCodes(code: $c) { generatedAt } }';

describe('resetTwoFactor', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { IP_ATTEMPTS_PER_MINUTE: '100000' } });
    admin = await t.token('support-agent', ['twofactor:admin']);
  });
  afterAll(() => t.close());

  const rowsOf = async (userId: string) => {
    const counts: Record<string, number> = {};
    for (const table of ['totp_factors', 'sms_factors', 'pending_setups', 'recovery_codes']) {
      counts[table] = Number((await t.sql(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`, [userId]))[0].n);
    }
    return counts;
  };

  /** A 6-digit code that none of the accepted steps shows. */
  const wrongCode = (secret: string) =>
    ['000000', '111111', '222222', '333333'].find(
      (code) => ![-1, 0, 1].some((offset) => currentTotp(t, secret, offset) === code),
    )!;

  it('needs the twofactor:admin scope', async () => {
    const user = uniqueId('user');
    expect(errorCode(await t.gql(RESET, { u: user, r: 'x' }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(RESET, { u: user, r: 'x' }, await t.token(user)))).toBe('FORBIDDEN');
    for (const scope of ['twofactor:read', 'twofactor:directory', 'twofactor:login']) {
      expect(errorCode(await t.gql(RESET, { u: user, r: 'x' }, await t.token('svc', [scope])))).toBe('FORBIDDEN');
    }
  });

  it.each([
    ['an empty reason', ''],
    ['a blank reason', '   '],
    ['a reason of 501 characters', 'r'.repeat(501)],
    ['a reason with a newline', 'lost\nphone'],
    ['a reason with a NUL', 'lost\u0000phone'],
    ['a reason with DEL', 'lost\u007fphone'],
    ['a reason with a C1 control', 'lost\u0085phone'],
    ['a reason with a bidi override', 'lost phone \u202eticket'],
    ['a reason with a zero-width joiner', 'lost\u200dphone'],
  ])('refuses %s with BAD_USER_INPUT, changing nothing', async (_name, reason) => {
    const user = await enrollTotp(t, uniqueId('user'));
    expect(errorCode(await t.gql(RESET, { u: user.userId, r: reason }, admin))).toBe('BAD_USER_INPUT');
    expect((await t.gql(STATUS, {}, user.token)).data.me.twoFactor.enabled).toBe(true);
    expect(
      await t.sql('SELECT * FROM audit_events WHERE user_id = ? AND action = ?', [
        user.userId,
        'TWO_FACTOR_RESET_BY_ADMIN',
      ]),
    ).toHaveLength(0);
  });

  it('refuses a malformed user id with BAD_USER_INPUT', async () => {
    expect(errorCode(await t.gql(RESET, { u: 'not valid', r: 'x' }, admin))).toBe('BAD_USER_INPUT');
  });

  it('accepts a reason of 500 characters, stored whole', async () => {
    const user = uniqueId('user');
    const reason = 'é'.repeat(500);
    expect((await t.gql(RESET, { u: user, r: reason }, admin)).data.resetTwoFactor).toEqual(DISABLED);
    const [event] = await t.sql('SELECT reason FROM audit_events WHERE user_id = ? AND action = ?', [
      user,
      'TWO_FACTOR_RESET_BY_ADMIN',
    ]);
    expect(event.reason).toBe(reason);
  });

  it('removes every factor, pending setup and recovery code, audited with the reason', async () => {
    const user = await enrollTotp(t, uniqueId('user'));
    // A replacement authenticator being set up: a pending setup.
    const replacement = await t.gql(
      'mutation($c: String!) { startTotpSetup(code: $c) { secret } }',
      { c: currentTotp(t, user.secret) },
      user.token,
    );
    expect(replacement.errors).toBeUndefined();
    expect(await rowsOf(user.userId)).toEqual({
      totp_factors: 1,
      sms_factors: 0,
      pending_setups: 1,
      recovery_codes: 10,
    });

    const now = t.clock.now();
    const reset = await t.gql(RESET, { u: user.userId, r: '  lost phone, ticket 4711  ' }, admin);
    expect(reset.errors).toBeUndefined();
    expect(reset.data.resetTwoFactor).toEqual(DISABLED);
    expect(await rowsOf(user.userId)).toEqual({
      totp_factors: 0,
      sms_factors: 0,
      pending_setups: 0,
      recovery_codes: 0,
    });
    const [row] = await t.sql('SELECT two_factor_enabled, enabled_at, failed_attempts_in_row FROM users WHERE id = ?', [
      user.userId,
    ]);
    expect(row).toEqual({ two_factor_enabled: 0, enabled_at: null, failed_attempts_in_row: 0 });
    const events = await t.sql(
      'SELECT actor_id, reason, client_ip, occurred_at FROM audit_events WHERE user_id = ? AND action = ?',
      [user.userId, 'TWO_FACTOR_RESET_BY_ADMIN'],
    );
    expect(events).toEqual([
      { actor_id: 'support-agent', reason: 'lost phone, ticket 4711', client_ip: '127.0.0.1', occurred_at: now },
    ]);

    // What the user held is worthless now.
    expect((await t.gql(STATUS, {}, user.token)).data.me.twoFactor).toEqual({
      enabled: false,
      locked: false,
      methods: [],
      recoveryCodesRemaining: 0,
    });
    nextStep(t);
    expect(
      errorCode(
        await t.gql(
          'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
          { c: user.recoveryCodes[1] },
          user.token,
        ),
      ),
    ).toBe('NOT_ENROLLED');
    expect(
      errorCode(
        await t.gql(
          'mutation($c: String!) { confirmTotpSetup(code: $c) { status { enabled } } }',
          { c: currentTotp(t, replacement.data.startTotpSetup.secret) },
          user.token,
        ),
      ),
    ).toBe('NOT_FOUND');
  });

  it("keeps the organizations' counts in step", async () => {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const member = await enrollTotp(t, uniqueId('member'));
    await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
    await t.gql(RESET, { u: member.userId, r: 'lost phone' }, admin);
    await t.gql(RESET, { u: owner.userId, r: 'lost phone' }, admin);
    const compliance = await t.gql(
      'query($id: ID!) { organization(id: $id) { compliance { membersWithTwoFactor membersWithoutTwoFactor ownersWithoutTwoFactor } } }',
      { id: org },
      await t.token('svc', ['twofactor:read']),
    );
    expect(compliance.data.organization.compliance).toEqual({
      membersWithTwoFactor: 0,
      membersWithoutTwoFactor: 2,
      ownersWithoutTwoFactor: 1,
    });
    expect(
      await t.sql('SELECT user_id FROM memberships WHERE organization_id = ? AND two_factor_enabled = 1', [org]),
    ).toEqual([]);
  });

  it('works while an organization requires two-factor', async () => {
    const org = uniqueId('org');
    const owner = await enrollTotp(t, uniqueId('owner'));
    const member = await enrollTotp(t, uniqueId('member'));
    await syncOrganization(t, org, { [owner.userId]: 'OWNER', [member.userId]: 'MEMBER' });
    expect(
      (await t.gql('mutation($o: ID!) { requireTwoFactor(organizationId: $o) { id } }', { o: org }, owner.token))
        .errors,
    ).toBeUndefined();
    expect(
      errorCode(
        await t.gql(
          'mutation($c: String!) { disableTwoFactor(code: $c) { enabled } }',
          { c: member.recoveryCodes[0] },
          member.token,
        ),
      ),
    ).toBe('TWO_FACTOR_REQUIRED_BY_ORGANIZATION');
    // Even an owner's: the organization then has an owner without two-factor, and is simply not compliant.
    for (const user of [member, owner])
      expect((await t.gql(RESET, { u: user.userId, r: 'support ticket' }, admin)).data.resetTwoFactor).toEqual(
        DISABLED,
      );
    const [organization] = await t.sql(
      'SELECT requires_two_factor, owners_without_two_factor FROM organizations WHERE id = ?',
      [org],
    );
    expect(organization).toEqual({ requires_two_factor: 1, owners_without_two_factor: 1 });
  });

  it('ends the lock after 100 failures in a row', async () => {
    const user = await enrollTotp(t, uniqueId('user'));
    await t.sql('UPDATE users SET failed_attempts_in_row = 100 WHERE id = ?', [user.userId]);
    expect((await t.gql(STATUS, {}, user.token)).data.me.twoFactor.locked).toBe(true);
    expect(errorCode(await t.gql(VIEW_CODES, { c: currentTotp(t, user.secret) }, user.token))).toBe(
      'TWO_FACTOR_LOCKED',
    );

    expect((await t.gql(RESET, { u: user.userId, r: 'locked out' }, admin)).data.resetTwoFactor).toEqual(DISABLED);
    const [row] = await t.sql('SELECT failed_attempts_in_row FROM users WHERE id = ?', [user.userId]);
    expect(row.failed_attempts_in_row).toBe(0);

    // Set up again: TOTP codes work.
    const again = await enrollTotp(t, user.userId);
    expect((await t.gql(VIEW_CODES, { c: currentTotp(t, again.secret) }, again.token)).errors).toBeUndefined();
  });

  it('ends the failure window: a user refused with RATE_LIMITED may try again at once', async () => {
    const user = await enrollTotp(t, uniqueId('user'));
    for (let i = 0; i < 10; i += 1) {
      expect(errorCode(await t.gql(VIEW_CODES, { c: wrongCode(user.secret) }, user.token))).toBe('INVALID_CODE');
    }
    const limited = await t.gql(VIEW_CODES, { c: currentTotp(t, user.secret) }, user.token);
    expect(errorCode(limited)).toBe('RATE_LIMITED');

    expect((await t.gql(RESET, { u: user.userId, r: 'too many tries' }, admin)).data.resetTwoFactor).toEqual(DISABLED);
    // Setting up again goes through the same checks (confirmTotpSetup), so it would be refused without the reset.
    const again = await enrollTotp(t, user.userId);
    const viewed = await t.gql(VIEW_CODES, { c: currentTotp(t, again.secret) }, again.token);
    expect(viewed.errors).toBeUndefined();
  });

  it('on a user never seen before: nothing to remove, a user without two-factor', async () => {
    const user = uniqueId('newcomer');
    expect((await t.gql(RESET, { u: user, r: 'checking' }, admin)).data.resetTwoFactor).toEqual(DISABLED);
    expect(await t.sql('SELECT action FROM audit_events WHERE user_id = ?', [user])).toEqual([
      { action: 'TWO_FACTOR_RESET_BY_ADMIN' },
    ]);
  });
});
