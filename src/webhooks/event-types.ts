import type { AuditEntry, ServiceAuditAction } from '../audit/audit-log';
import type { FactorActions } from '../audit/factor-actions';
import type { Actor } from '../callers/caller';
import { TwoFactorMethod } from '../users/two-factor-method';

/** The event types of the contract, as endpoints subscribe to them (`eventTypes`). */
export const WEBHOOK_EVENT_TYPES = [
  'two_factor.enabled',
  'two_factor.disabled',
  'two_factor.locked',
  'two_factor.reset',
  'factor.added',
  'factor.removed',
  'recovery_codes.viewed',
  'recovery_codes.regenerated',
  'recovery_code.used',
  'login.verified',
  'login.failed',
  'trusted_device.added',
  'trusted_device.revoked',
  'organization.policy_changed',
  'organization.member_access_changed',
  'organization.exemption_granted',
  'organization.exemption_ended',
  'organization.grace_period_ending',
  'organization.grace_period_ended',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/** What `organization.policy_changed` says changed. */
export type PolicyChange =
  | 'requires'
  | 'phishing_resistant'
  | 'grace_period'
  | 'trusted_devices'
  | 'identity_provider_mfa'
  | 'authenticator_policy'
  | 'stopped';

/**
 * An event's `data`: ids, the method, a masked phone number, the actor and its
 * client IP, the time. Never a code, secret, token, whole phone number or
 * recovery code: nothing here is free text a caller typed.
 */
export type EventData = Record<string, string | number | boolean | null>;

export type MappedEvent =
  | { type: Exclude<WebhookEventType, 'organization.policy_changed'>; data: EventData }
  | { type: 'organization.policy_changed'; data: EventData; organizationId: string; change: PolicyChange };

/**
 * The one mapping from audited security changes to webhook events: every change
 * the contract lists is audited inside its transaction (AuditLog.record), and the
 * audit log hands each entry here. Actions without an event type (an SMS sent, a
 * failed step-up code, directory sync, admin changes to endpoints) map to null.
 * `organization.member_access_changed` is not an audit action: OrganizationMembers
 * reports it where a member's state moves (WebhookEventWriter.memberAccessChanged).
 */
export function eventFromAudit(
  actor: Actor,
  entry: AuditEntry,
  now: Date,
  factorActions: FactorActions,
): MappedEvent | null {
  const userId = entry.userId ?? null;
  const who = { actorId: actor.actorId, clientIp: actor.clientIp, occurredAt: now.toISOString() };
  const user = (type: Exclude<WebhookEventType, 'organization.policy_changed'>, extra: EventData = {}) => ({
    type,
    data: { userId, ...extra, ...who },
  });
  const factor = (type: 'factor.added' | 'factor.removed', method: string) =>
    user(type, {
      method,
      ...(entry.details?.phoneNumberMasked ? { phoneNumberMasked: entry.details.phoneNumberMasked } : {}),
    });
  const policy = (change: PolicyChange): MappedEvent | null =>
    entry.organizationId
      ? {
          type: 'organization.policy_changed',
          organizationId: entry.organizationId,
          change,
          data: { organizationId: entry.organizationId, change, ...who },
        }
      : null;

  // A second factor's action: every factor's alike (src/module.ts FactorSignals).
  const factorAction = factorActions.describe(entry.action);
  if (factorAction) {
    if (factorAction.change === 'added' && !factorAction.event) return factor('factor.added', factorAction.method);
    if (factorAction.change === 'removed') return factor('factor.removed', factorAction.method);
    const type = factorAction.event;
    return type && isWebhookEventType(type) && type !== 'organization.policy_changed' ? user(type) : null;
  }
  /** About a member's exemption, or an organization's grace period (src/enforcement): ids and times, never the reason. */
  const organization = (
    type: Exclude<WebhookEventType, 'organization.policy_changed'>,
    extra: EventData,
  ): MappedEvent | null =>
    entry.organizationId ? { type, data: { organizationId: entry.organizationId, ...extra, ...who } } : null;
  const details = entry.details ?? {};
  const iso = (date: Date | undefined) => date?.toISOString() ?? null;

  switch (entry.action as ServiceAuditAction) {
    case 'TWO_FACTOR_ENABLED':
      // The reason names the first factor's method.
      return user('two_factor.enabled', { method: methodIn(entry.reason) });
    case 'TWO_FACTOR_DISABLED':
      return user('two_factor.disabled', { lastFactorRemoved: entry.reason === 'last factor removed' });
    case 'TWO_FACTOR_LOCKED':
      return user('two_factor.locked');
    case 'TWO_FACTOR_RESET_BY_ADMIN':
      // The admin's reason is free text: it stays in the audit log.
      return user('two_factor.reset');
    case 'LOGIN_VERIFIED':
      // The reason names the method that answered.
      return user('login.verified', { method: methodIn(entry.reason) });
    case 'LOGIN_FAILED':
      return user('login.failed');
    case 'TRUSTED_DEVICE_USED':
      // A login that a remembered browser answered: no method, the device stood for it.
      return user('login.verified', { method: null, trustedDevice: true });
    case 'TRUSTED_DEVICE_ADDED':
      return user('trusted_device.added');
    case 'TRUSTED_DEVICE_REVOKED':
    case 'TRUSTED_DEVICES_REVOKED':
      return user('trusted_device.revoked');
    case 'ORGANIZATION_ALLOWED_TRUSTED_DEVICES':
    case 'ORGANIZATION_FORBADE_TRUSTED_DEVICES':
      return policy('trusted_devices');
    case 'ORGANIZATION_REQUIRED_TWO_FACTOR':
    case 'ORGANIZATION_STOPPED_REQUIRING_PHISHING_RESISTANT':
      return policy('requires');
    case 'ORGANIZATION_REQUIRED_PHISHING_RESISTANT':
      return policy('phishing_resistant');
    case 'ORGANIZATION_GRACE_PERIOD_CHANGED':
      return policy('grace_period');
    case 'ORGANIZATION_STOPPED_REQUIRING_TWO_FACTOR':
      return policy('stopped');
    case 'ORGANIZATION_ACCEPTED_IDENTITY_PROVIDER_MFA':
    case 'ORGANIZATION_STOPPED_ACCEPTING_IDENTITY_PROVIDER_MFA':
      return policy('identity_provider_mfa');
    case 'ORGANIZATION_SET_AUTHENTICATOR_POLICY':
      return policy('authenticator_policy');
    case 'TWO_FACTOR_EXEMPTION_GRANTED':
      // The owner's reason is free text: it stays in the audit log.
      return organization('organization.exemption_granted', { userId, exemptUntil: iso(details.exemptUntil) });
    case 'TWO_FACTOR_EXEMPTION_ENDED':
      return organization('organization.exemption_ended', {
        userId,
        ended: details.exemptionEnded ?? null,
        endedAt: iso(details.exemptUntil),
      });
    case 'ORGANIZATION_GRACE_PERIOD_ENDING':
      return organization('organization.grace_period_ending', {
        graceEndsAt: iso(details.graceEndsAt),
        daysLeft: details.daysLeft ?? null,
        membersAffected: details.membersAffected ?? null,
      });
    case 'ORGANIZATION_GRACE_PERIOD_ENDED':
      return organization('organization.grace_period_ended', {
        graceEndsAt: iso(details.graceEndsAt),
        membersAffected: details.membersAffected ?? null,
      });
    default:
      return null;
  }
}

/** A method named by an audit reason; anything else (free text) is never copied into an event. */
function methodIn(reason: string | null | undefined): TwoFactorMethod | null {
  return (Object.values(TwoFactorMethod) as string[]).includes(reason ?? '') ? (reason as TwoFactorMethod) : null;
}
