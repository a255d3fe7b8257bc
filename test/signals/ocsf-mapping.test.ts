import type { AuditAction } from '../../src/audit/audit-log';
import { FactorActions } from '../../src/audit/factor-actions';
import { FACTOR_SIGNALS } from '../../src/modules';
import { type AuditedEvent, ocsfClasses, toOcsf as toOcsfWith } from '../../src/signals/ocsf/ocsf-mapping';

/** Every factor module's actions, as the service registers them (src/modules.ts). */
const FACTORS = new FactorActions(FACTOR_SIGNALS);
const toOcsf = (event: AuditedEvent) => toOcsfWith(event, FACTORS);
const OCSF_CLASS_OF = ocsfClasses(FACTORS);
import { ocsfProblems } from './ocsf/ocsf-validator';

/**
 * The mapping from audit events to OCSF 1.7.0 (src/signals/ocsf/ocsf-mapping.ts),
 * as OCSF defines it: the class and activity of every audit action, stated here
 * again by hand, and every record valid against the schema the repository
 * carries (test/signals/ocsf/ocsf-1.7.0.schema.json).
 */

/** [class_uid, activity_id] of each action: what OCSF 1.7.0 calls it. */
const EXPECTED: Record<AuditAction, [number, number]> = {
  // Account Change (3001): a user's factors (10 MFA Factor Enable, 11 MFA Factor Disable), lock, erasure.
  TOTP_ENABLED: [3001, 10],
  TOTP_REMOVED: [3001, 11],
  SMS_ENABLED: [3001, 10],
  SMS_REMOVED: [3001, 11],
  WEBAUTHN_CREDENTIAL_ADDED: [3001, 10],
  WEBAUTHN_CREDENTIAL_REMOVED: [3001, 11],
  WEBAUTHN_CREDENTIAL_RENAMED: [3001, 99],
  RECOVERY_CODES_REGENERATED: [3001, 10],
  TWO_FACTOR_ENABLED: [3001, 10],
  TWO_FACTOR_DISABLED: [3001, 11],
  TWO_FACTOR_RESET_BY_ADMIN: [3001, 11],
  TWO_FACTOR_LOCKED: [3001, 9],
  USER_DELETED: [3001, 6],
  // Authentication (3002): logins (1 Logon) and the other stages of answering.
  LOGIN_VERIFIED: [3002, 1],
  LOGIN_FAILED: [3002, 1],
  TRUSTED_DEVICE_USED: [3002, 1],
  CODE_CHECK_FAILED: [3002, 99],
  RECOVERY_CODE_USED: [3002, 99],
  SMS_SENT: [3002, 99],
  WEBAUTHN_CLONE_SUSPECTED: [3002, 99],
  // Entity Management (3004): organization policy, organizations, devices, recovery codes shown, webhooks.
  ORGANIZATION_REQUIRED_TWO_FACTOR: [3004, 8],
  ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR: [3004, 9],
  ORGANIZATION_REQUIRED_PHISHING_RESISTANT: [3004, 8],
  ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT: [3004, 9],
  ORGANIZATION_GRACE_PERIOD_CHANGED: [3004, 3],
  ORGANIZATION_ALLOWED_TRUSTED_DEVICES: [3004, 8],
  ORGANIZATION_FORBADE_TRUSTED_DEVICES: [3004, 9],
  ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA: [3004, 8],
  ORGANIZATION_SET_AUTHENTICATOR_POLICY: [3004, 3],
  ORGANIZATION_STOPPED_ACCEPTING_IDENTITY_PROVIDER_MFA: [3004, 9],
  ORGANIZATION_GRACE_PERIOD_ENDING: [3004, 99],
  ORGANIZATION_GRACE_PERIOD_ENDED: [3004, 99],
  TWO_FACTOR_EXEMPTION_GRANTED: [3004, 1],
  TWO_FACTOR_EXEMPTION_ENDED: [3004, 4],
  ORGANIZATION_UPSERTED: [3004, 3],
  ORGANIZATION_DELETED: [3004, 4],
  RECOVERY_CODES_VIEWED: [3004, 2],
  TRUSTED_DEVICE_ADDED: [3004, 1],
  TRUSTED_DEVICE_REVOKED: [3004, 4],
  TRUSTED_DEVICES_REVOKED: [3004, 4],
  WEBHOOK_ENDPOINT_CREATED: [3004, 1],
  WEBHOOK_ENDPOINT_UPDATED: [3004, 3],
  WEBHOOK_ENDPOINT_DISABLED: [3004, 9],
  WEBHOOK_SECRET_ROTATED: [3004, 3],
  WEBHOOK_ENDPOINT_DELETED: [3004, 4],
  WEBHOOK_DELIVERY_RETRIED: [3004, 99],
  CIPHERTEXT_REFUSED: [3004, 2],
  // Group Management (3006): an organization's members (3 Add User, 4 Remove User).
  MEMBERSHIP_SET: [3006, 3],
  MEMBERSHIP_REMOVED: [3006, 4],
};

const ACTIONS = Object.keys(EXPECTED) as AuditAction[];

function event(action: string, overrides: Partial<AuditedEvent> = {}): AuditedEvent {
  return {
    id: '42',
    action,
    userId: 'alice',
    organizationId: 'acme',
    actorId: 'alice',
    reason: null,
    clientIp: '203.0.113.7',
    occurredAt: new Date('2026-12-07T10:11:12.345Z'),
    ...overrides,
  };
}

describe('OCSF 1.7.0 records of audit events', () => {
  it('maps every audit action, and only those', () => {
    expect(Object.keys(OCSF_CLASS_OF).sort()).toEqual([...ACTIONS].sort());
  });

  it.each(ACTIONS)('%s: the class and activity OCSF defines, type_uid = class_uid * 100 + activity_id', (action) => {
    const record = toOcsf(event(action));
    const [classUid, activityId] = EXPECTED[action];
    expect(record).toMatchObject({ class_uid: classUid, activity_id: activityId, category_uid: 3 });
    expect(record.type_uid).toBe(classUid * 100 + activityId);
  });

  it.each(ACTIONS)(
    '%s: valid against the OCSF 1.7.0 schema, with every field and with the optional ones null',
    (action) => {
      const reasons: Partial<Record<AuditAction, string>> = {
        LOGIN_VERIFIED: 'TOTP',
        TWO_FACTOR_ENABLED: 'SMS',
        MEMBERSHIP_SET: 'OWNER',
        TRUSTED_DEVICE_ADDED: 'Firefox on Linux',
        WEBHOOK_ENDPOINT_UPDATED: 'endpoint 0ff1ce: url, eventTypes',
        WEBHOOK_DELIVERY_RETRIED: 'delivery d311',
        LOGIN_FAILED: 'wrong, used or expired code (login)',
      };
      const full = toOcsf(event(action, { reason: reasons[action] ?? 'because' }));
      expect(ocsfProblems(full)).toEqual([]);
      const bare = toOcsf(event(action, { actorId: null, clientIp: null, reason: null, organizationId: null }));
      expect(ocsfProblems(bare)).toEqual([]);
      // IPv6, as request.ip gives it behind a dual-stack socket.
      expect(ocsfProblems(toOcsf(event(action, { clientIp: '::ffff:127.0.0.1' })))).toEqual([]);
    },
  );

  it('a TOTP login is Authentication (3002), Logon, with the OTP factor (factor_type_id 7)', () => {
    const record = toOcsf(event('LOGIN_VERIFIED', { reason: 'TOTP' }));
    expect(record).toMatchObject({
      class_uid: 3002,
      class_name: 'Authentication',
      activity_id: 1,
      activity_name: 'Logon',
      type_uid: 300201,
      type_name: 'Authentication: Logon',
      status_id: 1,
      status: 'Success',
      is_mfa: true,
      user: { uid: 'alice' },
      auth_factors: [{ factor_type_id: 7, factor_type: 'OTP', is_totp: true }],
      src_endpoint: { ip: '203.0.113.7' },
      time: Date.parse('2026-12-07T10:11:12.345Z'),
      metadata: { version: '1.7.0', product: { name: 'twofactor' }, uid: '42', event_code: 'LOGIN_VERIFIED' },
    });
  });

  it.each([
    ['SMS', { factor_type_id: 1, factor_type: 'SMS' }],
    ['WEBAUTHN', { factor_type_id: 10, factor_type: 'WebAuthn' }],
    ['RECOVERY_CODE', { factor_type_id: 99, factor_type: 'Recovery Code' }],
  ])('a login with %s names its factor as OCSF types it', (method, factor) => {
    expect(toOcsf(event('LOGIN_VERIFIED', { reason: method })).auth_factors).toEqual([factor]);
  });

  it('a failed login is Authentication, Logon, Failure, with why in status_detail', () => {
    const record = toOcsf(event('LOGIN_FAILED', { reason: 'wrong, used or expired code (login)' }));
    expect(record).toMatchObject({
      class_uid: 3002,
      activity_id: 1,
      status_id: 2,
      status: 'Failure',
      severity_id: 2,
      severity: 'Low',
      status_detail: 'wrong, used or expired code (login)',
    });
  });

  it("a user's factor changes are Account Change with the MFA factor activities and the factor", () => {
    expect(toOcsf(event('TOTP_ENABLED'))).toMatchObject({
      class_uid: 3001,
      activity_id: 10,
      activity_name: 'MFA Factor Enable',
      type_uid: 300110,
      user: { uid: 'alice' },
      auth_factors: [{ factor_type_id: 7, factor_type: 'OTP', is_totp: true }],
    });
    expect(toOcsf(event('SMS_REMOVED'))).toMatchObject({
      activity_id: 11,
      activity_name: 'MFA Factor Disable',
      auth_factors: [{ factor_type_id: 1, factor_type: 'SMS' }],
    });
    expect(toOcsf(event('WEBAUTHN_CREDENTIAL_ADDED')).auth_factors).toEqual([
      { factor_type_id: 10, factor_type: 'WebAuthn' },
    ]);
  });

  it("an organization's policy change is Entity Management of the organization's policy", () => {
    expect(toOcsf(event('ORGANIZATION_REQUIRED_TWO_FACTOR', { userId: null, actorId: 'owner-1' }))).toMatchObject({
      class_uid: 3004,
      class_name: 'Entity Management',
      activity_id: 8,
      activity_name: 'Enable',
      type_uid: 300408,
      entity: { type_id: 5, type: 'Policy', name: 'Two-factor required', org: { uid: 'acme' } },
      actor: { user: { uid: 'owner-1' } },
    });
  });

  it('an action this version does not know is a valid Base Event, activity Other', () => {
    const record = toOcsf(event('SOMETHING_NEW'));
    expect(record).toMatchObject({
      class_uid: 0,
      activity_id: 99,
      type_uid: 99,
      metadata: { event_code: 'SOMETHING_NEW' },
    });
    expect(ocsfProblems(record)).toEqual([]);
  });

  describe('the schema is no rubber stamp: it refuses', () => {
    const good = () => toOcsf(event('LOGIN_VERIFIED', { reason: 'TOTP' }));
    it.each<[string, (record: Record<string, any>) => void]>([
      ['a type_uid that is not class_uid * 100 + activity_id', (r) => (r.type_uid = 300202)],
      ['an activity caption that is not the id’s', (r) => (r.activity_name = 'Logoff')],
      ['an activity OCSF does not define for the class', (r) => ((r.activity_id = 42), (r.type_uid = 300242))],
      ['an attribute the class does not have', (r) => (r.entity = { uid: 'x' })],
      ['an Authentication without its user', (r) => delete r.user],
      ['an Authentication with neither service nor dst_endpoint', (r) => delete r.service],
      ['a factor_type that is not the id’s', (r) => (r.auth_factors[0].factor_type = 'TOTP')],
      ['a phone number in an auth factor', (r) => (r.auth_factors[0].phone_number = '+14155550123')],
      ['a severity caption that is not the id’s', (r) => (r.severity = 'High')],
      ['another OCSF version', (r) => (r.metadata.version = '1.6.0')],
      ['a time that is not epoch milliseconds', (r) => (r.time = '2026-12-07T10:11:12Z')],
    ])('%s', (_why, spoil) => {
      const record = good();
      expect(ocsfProblems(record)).toEqual([]);
      spoil(record as Record<string, any>);
      expect(ocsfProblems(record)).not.toEqual([]);
    });

    it('an address that is no IP', () => {
      expect(ocsfProblems(toOcsf(event('LOGIN_VERIFIED', { clientIp: '1.2.3.4.5' })))).not.toEqual([]);
    });
  });
});
