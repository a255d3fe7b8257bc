import type { ServiceAuditAction } from '../../audit/audit-log';
import type { DescribedFactorAction, FactorActions } from '../../audit/factor-actions';
import type { FactorSignals } from '../../module';

/**
 * An audit event in OCSF 1.7.0 (schema.ocsf.io/1.7.0), for SIEMs: a pure
 * mapping, one table row per audit action (docs/adr/0017-security-signals.md).
 * Only values OCSF defines: class, category, activity and enum ids with their
 * captions, type_uid = class_uid * 100 + activity_id. A record holds ids, the
 * client's address and the event's own reason (never a code, a secret, a token
 * or a phone number: the audit log holds none).
 */

export const OCSF_VERSION = '1.7.0';

/** What the mapping reads of an audit event: the stored row, or the GraphQL node (clientIp already hidden where the caller may not see it). */
export interface AuditedEvent {
  id: string;
  action: string;
  userId: string | null;
  organizationId: string | null;
  actorId: string | null;
  reason: string | null;
  clientIp: string | null;
  occurredAt: Date;
}

export type OcsfRecord = Record<string, unknown>;

const IAM = { category_uid: 3, category_name: 'Identity & Access Management' } as const;

const CLASSES = {
  accountChange: { class_uid: 3001, class_name: 'Account Change' },
  authentication: { class_uid: 3002, class_name: 'Authentication' },
  entityManagement: { class_uid: 3004, class_name: 'Entity Management' },
  groupManagement: { class_uid: 3006, class_name: 'Group Management' },
} as const;
type ClassKey = keyof typeof CLASSES;

/** The activities used here, with OCSF's captions (99 Other carries our own name instead). */
const ACTIVITY_CAPTIONS: Record<ClassKey, Record<number, string>> = {
  accountChange: { 6: 'Delete', 9: 'Lock', 10: 'MFA Factor Enable', 11: 'MFA Factor Disable' },
  authentication: { 1: 'Logon' },
  entityManagement: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 8: 'Enable', 9: 'Disable' },
  groupManagement: { 3: 'Add User', 4: 'Remove User' },
};

const SEVERITY = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' } as const;
type SeverityId = keyof typeof SEVERITY;

interface Row {
  class: ClassKey;
  activity: number;
  /** For 99 Other only: what happened, in our words. */
  other?: string;
  severity?: SeverityId;
  failure?: boolean;
  message: string;
  /** Class-specific attributes. */
  build?: (event: AuditedEvent, factors: FactorActions) => OcsfRecord;
}

/** auth_factors: OCSF's factor types, each factor's own (src/module.ts FactorSignals). */
const authFactors = (...list: FactorSignals['ocsf'][]) => ({ auth_factors: list.map((factor) => ({ ...factor })) });
/** The factor a reason names (its method, e.g. the one that answered a login); none for anything else. */
const factorOf = (reason: string | null, factors: FactorActions) => {
  const factor = reason === null ? null : factors.ocsfFactor(reason);
  return factor ? [factor] : [];
};

/** An organization's two-factor policy: Entity Management of a Policy entity of the organization. */
const policyChange = (activity: 3 | 8 | 9 | 99, policy: string, message: string, severity?: SeverityId): Row => ({
  class: 'entityManagement',
  activity,
  severity,
  message,
  build: (event) => ({
    entity: {
      type_id: 5,
      type: 'Policy',
      name: policy,
      ...(event.organizationId && { org: { uid: event.organizationId } }),
    },
  }),
});

/** A member's exemption from the organization's requirement: a Policy entity of the organization, about the user. */
const exemption = (event: AuditedEvent) => ({
  entity: {
    type_id: 5,
    type: 'Policy',
    name: 'Two-factor exemption',
    ...(event.organizationId && { org: { uid: event.organizationId } }),
    ...(event.userId !== null && { user: { uid: event.userId } }),
  },
});

/** The user, and whether two-factor is on for it now. */
const withMfa = (event: AuditedEvent, hasMfa: boolean) =>
  event.userId === null ? {} : { user: { uid: event.userId, has_mfa: hasMfa } };

const organizationEntity = (event: AuditedEvent) => ({
  entity: {
    type_id: 4,
    type: 'Organization',
    uid: event.organizationId ?? '',
    org: { uid: event.organizationId ?? '' },
  },
});

/** A trusted device ("remember this browser"): a Browser the user named. */
const trustedDevice = (event: AuditedEvent, named: boolean) => ({
  entity: {
    type_id: 1,
    type: 'Device',
    ...(named &&
      event.reason !== null && { name: event.reason, device: { type_id: 8, type: 'Browser', name: event.reason } }),
    ...(event.userId !== null && { user: { uid: event.userId } }),
  },
});

/** The webhook endpoint or delivery an event names in its reason ("endpoint <id>...", "delivery <id>"). */
const webhookEntity = (kind: 'endpoint' | 'delivery') => (event: AuditedEvent) => {
  const uid = new RegExp(`^${kind} ([A-Za-z0-9_-]+)`).exec(event.reason ?? '')?.[1];
  const type = kind === 'endpoint' ? 'Webhook Endpoint' : 'Webhook Delivery';
  return { entity: { type_id: 99, type, ...(uid ? { uid } : { name: type }) } };
};

/** Every one of the service's own audit actions, mapped (a factor's: factorRow). The compiler refuses a new action without its row. */
const ROWS: Record<ServiceAuditAction, Row> = {
  TWO_FACTOR_ENABLED: {
    class: 'accountChange',
    activity: 10,
    message: 'Two-factor authentication was turned on.',
    build: (event, factors) => ({ ...authFactors(...factorOf(event.reason, factors)), ...withMfa(event, true) }),
  },
  TWO_FACTOR_DISABLED: {
    class: 'accountChange',
    activity: 11,
    severity: 2,
    message: 'Two-factor authentication was turned off.',
    build: (event) => withMfa(event, false),
  },
  TWO_FACTOR_RESET_BY_ADMIN: {
    class: 'accountChange',
    activity: 11,
    severity: 3,
    message: "An administrator removed the user's second factors.",
    build: (event) => withMfa(event, false),
  },
  TWO_FACTOR_LOCKED: {
    class: 'accountChange',
    activity: 9,
    severity: 3,
    message: 'Too many wrong answers in a row: codes are refused until an administrator resets two-factor.',
  },
  USER_DELETED: { class: 'accountChange', activity: 6, message: "The user's two-factor data was erased." },

  LOGIN_VERIFIED: {
    class: 'authentication',
    activity: 1,
    message: 'A login challenge was answered.',
    build: (event, factors) => ({ is_mfa: true, ...authFactors(...factorOf(event.reason, factors)) }),
  },
  LOGIN_FAILED: {
    class: 'authentication',
    activity: 1,
    severity: 2,
    failure: true,
    message: 'A login challenge was answered wrongly.',
    build: () => ({ is_mfa: true }),
  },
  TRUSTED_DEVICE_USED: {
    class: 'authentication',
    activity: 1,
    message: 'A login started on a trusted device, which stood in for the second factor.',
  },
  CODE_CHECK_FAILED: {
    class: 'authentication',
    activity: 99,
    other: 'Second Factor Check',
    severity: 2,
    failure: true,
    message: 'A second-factor answer (step-up or setup) was wrong.',
    build: () => ({ is_mfa: true }),
  },

  TRUSTED_DEVICE_ADDED: {
    class: 'entityManagement',
    activity: 1,
    message: 'A browser was remembered as a trusted device.',
    build: (event) => trustedDevice(event, true),
  },
  TRUSTED_DEVICE_REVOKED: {
    class: 'entityManagement',
    activity: 4,
    message: 'A trusted device was revoked.',
    build: (event) => trustedDevice(event, true),
  },
  TRUSTED_DEVICES_REVOKED: {
    class: 'entityManagement',
    activity: 4,
    message: "The user's trusted devices were revoked.",
    build: (event) => trustedDevice(event, false),
  },
  ORGANIZATION_REQUIRED_TWO_FACTOR: policyChange(8, 'Two-factor required', 'The organization requires two-factor.'),
  ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR: policyChange(
    9,
    'Two-factor required',
    'The organization stopped requiring two-factor.',
    2,
  ),
  ORGANIZATION_REQUIRED_PHISHING_RESISTANT: policyChange(
    8,
    'Phishing-resistant two-factor required',
    'The organization requires phishing-resistant two-factor.',
  ),
  ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT: policyChange(
    9,
    'Phishing-resistant two-factor required',
    'The organization stopped requiring phishing-resistant two-factor.',
    2,
  ),
  ORGANIZATION_GRACE_PERIOD_CHANGED: policyChange(
    3,
    'Two-factor grace period',
    "The organization's grace period changed.",
  ),
  ORGANIZATION_ALLOWED_TRUSTED_DEVICES: policyChange(
    8,
    'Trusted devices allowed',
    'The organization allows trusted devices.',
  ),
  ORGANIZATION_FORBADE_TRUSTED_DEVICES: policyChange(
    9,
    'Trusted devices allowed',
    'The organization forbids trusted devices.',
  ),
  ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA: policyChange(
    8,
    'Identity provider MFA accepted',
    'The organization accepts multi-factor done at the identity provider for its two-factor requirement.',
  ),
  ORGANIZATION_STOPPED_ACCEPTING_IDENTITY_PROVIDER_MFA: policyChange(
    9,
    'Identity provider MFA accepted',
    'The organization stopped accepting multi-factor done at the identity provider.',
  ),
  ORGANIZATION_SET_AUTHENTICATOR_POLICY: policyChange(
    3,
    'Authenticator policy',
    'The organization set which security keys meet its phishing-resistant requirement.',
  ),
  TWO_FACTOR_EXEMPTION_GRANTED: {
    class: 'entityManagement',
    activity: 1,
    severity: 2,
    message: "A member was exempted from the organization's two-factor requirement for a time.",
    build: (event) => exemption(event),
  },
  TWO_FACTOR_EXEMPTION_ENDED: {
    class: 'entityManagement',
    activity: 4,
    message: "A member's exemption from the organization's two-factor requirement ended.",
    build: (event) => exemption(event),
  },
  ORGANIZATION_GRACE_PERIOD_ENDING: {
    ...policyChange(99, 'Two-factor grace period', "The organization's grace period ends soon."),
    other: 'Reminder',
  },
  ORGANIZATION_GRACE_PERIOD_ENDED: {
    ...policyChange(
      99,
      'Two-factor grace period',
      "The organization's grace period ended: its requirement refuses members without a factor it accepts.",
      2,
    ),
    other: 'Grace Period Ended',
  },
  ORGANIZATION_UPSERTED: {
    class: 'entityManagement',
    activity: 3,
    message: 'The organization was created or renamed by the directory.',
    build: organizationEntity,
  },
  ORGANIZATION_DELETED: {
    class: 'entityManagement',
    activity: 4,
    message: 'The organization was deleted.',
    build: organizationEntity,
  },
  MEMBERSHIP_SET: {
    class: 'groupManagement',
    activity: 3,
    message: 'A user became a member of the organization, or its role changed.',
    build: (event) => ({
      group: { uid: event.organizationId ?? '', type: 'Organization' },
      ...(event.reason !== null && { privileges: [event.reason] }),
    }),
  },
  MEMBERSHIP_REMOVED: {
    class: 'groupManagement',
    activity: 4,
    message: 'A user left the organization.',
    build: (event) => ({ group: { uid: event.organizationId ?? '', type: 'Organization' } }),
  },
  WEBHOOK_ENDPOINT_CREATED: {
    class: 'entityManagement',
    activity: 1,
    message: 'A webhook endpoint was created.',
    build: webhookEntity('endpoint'),
  },
  WEBHOOK_ENDPOINT_UPDATED: {
    class: 'entityManagement',
    activity: 3,
    message: 'A webhook endpoint was changed.',
    build: webhookEntity('endpoint'),
  },
  WEBHOOK_ENDPOINT_DISABLED: {
    class: 'entityManagement',
    activity: 9,
    message: 'A webhook endpoint was disabled (its receiver answered 410 Gone).',
    build: webhookEntity('endpoint'),
  },
  WEBHOOK_SECRET_ROTATED: {
    class: 'entityManagement',
    activity: 3,
    message: "A webhook endpoint's signing secret was rotated.",
    build: webhookEntity('endpoint'),
  },
  WEBHOOK_ENDPOINT_DELETED: {
    class: 'entityManagement',
    activity: 4,
    message: 'A webhook endpoint was deleted.',
    build: webhookEntity('endpoint'),
  },
  WEBHOOK_DELIVERY_RETRIED: {
    class: 'entityManagement',
    activity: 99,
    other: 'Retry',
    message: 'A webhook delivery was retried by hand.',
    build: webhookEntity('delivery'),
  },
  // A stored secret read and refused (src/keys): a failed Read of it, high severity (a row was altered or a key is missing).
  CIPHERTEXT_REFUSED: {
    class: 'entityManagement',
    activity: 2,
    severity: 4,
    failure: true,
    message:
      'A stored secret did not decrypt for its row (moved from another row, altered, or under a missing key): refused.',
    build: (event) => ({
      entity: {
        type_id: 99,
        type: 'Encrypted Secret',
        name: /^([a-z-]+):/.exec(event.reason ?? '')?.[1] ?? 'secret',
        ...(event.userId !== null && { user: { uid: event.userId } }),
      },
    }),
  },
};

/** A second factor's action, as every factor's is mapped: what happened to it (src/module.ts FactorAction). */
function factorRow(action: DescribedFactorAction): Row {
  const factor = () => authFactors(action.ocsf);
  switch (action.change) {
    case 'added':
    case 'removed':
      return {
        class: 'accountChange',
        activity: action.change === 'added' ? 10 : 11,
        message: action.message,
        build: factor,
      };
    case 'renamed':
      return { class: 'accountChange', activity: 99, other: action.other, message: action.message, build: factor };
    case 'used':
    case 'suspected':
      return {
        class: 'authentication',
        activity: 99,
        other: action.other,
        message: action.message,
        ...(action.change === 'suspected' && { severity: 4 as const, failure: true }),
        build: () => ({ is_mfa: true, ...factor() }),
      };
    case 'sent':
      return { class: 'authentication', activity: 99, other: action.other, message: action.message, build: factor };
    case 'viewed':
      return {
        class: 'entityManagement',
        activity: 2,
        message: action.message,
        build: (event) => ({
          entity: {
            type_id: 99,
            type: `${action.ocsf.factor_type}s`,
            ...(event.userId !== null && { user: { uid: event.userId } }),
          },
        }),
      };
  }
}

/** The row of an audit action: the service's own, or a factor's. */
function rowOf(action: string, factors: FactorActions): Row | undefined {
  const described = factors.describe(action);
  return described ? factorRow(described) : (ROWS as Partial<Record<string, Row>>)[action];
}

/** Every audit action and the OCSF class it maps to (for the docs and tests). */
export function ocsfClasses(factors: FactorActions): Record<string, number> {
  return Object.fromEntries(
    [...Object.keys(ROWS), ...factors.actions].map((action) => [
      action,
      CLASSES[rowOf(action, factors)!.class].class_uid,
    ]),
  );
}

/** The OCSF 1.7.0 record of an audit event. */
export function toOcsf(event: AuditedEvent, factors: FactorActions): OcsfRecord {
  const row = rowOf(event.action, factors);
  return row ? mapped(event, row, factors) : unknownAction(event);
}

function mapped(event: AuditedEvent, row: Row, factors: FactorActions): OcsfRecord {
  const { class_uid, class_name } = CLASSES[row.class];
  const activityName = row.activity === 99 ? row.other! : ACTIVITY_CAPTIONS[row.class][row.activity];
  const severityId = row.severity ?? 1;
  const specific = row.build?.(event, factors) ?? {};
  const record: OcsfRecord = {
    ...IAM,
    class_uid,
    class_name,
    activity_id: row.activity,
    activity_name: activityName,
    type_uid: class_uid * 100 + row.activity,
    type_name: `${class_name}: ${row.activity === 99 ? 'Other' : activityName}`,
    severity_id: severityId,
    severity: SEVERITY[severityId],
    status_id: row.failure ? 2 : 1,
    status: row.failure ? 'Failure' : 'Success',
    ...(event.reason !== null && { status_detail: event.reason }),
    time: event.occurredAt.getTime(),
    timezone_offset: 0,
    message: row.message,
    metadata: metadata(event),
    ...(event.actorId !== null && { actor: { user: { uid: event.actorId } } }),
    ...(event.clientIp !== null && { src_endpoint: { ip: event.clientIp } }),
  };
  // The user the event is about, where the class has one (Authentication and Account Change require it).
  if (row.class === 'authentication' || row.class === 'accountChange' || row.class === 'groupManagement') {
    if (event.userId !== null) record.user = { uid: event.userId };
  }
  if (row.class === 'authentication') record.service = { name: PRODUCT.name };
  return { ...record, ...specific };
}

/** An action this version does not know (a row written by a newer one): the Base Event, activity Other. */
function unknownAction(event: AuditedEvent): OcsfRecord {
  return {
    category_uid: 0,
    category_name: 'Uncategorized',
    class_uid: 0,
    class_name: 'Base Event',
    activity_id: 99,
    activity_name: event.action,
    type_uid: 99,
    type_name: 'Base Event: Other',
    severity_id: 1,
    severity: SEVERITY[1],
    time: event.occurredAt.getTime(),
    timezone_offset: 0,
    message: `Audit action ${event.action}.`,
    metadata: metadata(event),
  };
}

const PRODUCT = { name: 'twofactor' } as const;

function metadata(event: AuditedEvent) {
  return { version: OCSF_VERSION, product: { ...PRODUCT }, uid: event.id, event_code: event.action, log_name: 'audit' };
}
