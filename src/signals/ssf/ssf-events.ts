import type { AuditEntry } from '../../audit/audit-log';
import type { Actor } from '../../callers/caller';

/** The event types the transmitter sends (CAEP 1.0, RISC 1.0, SSF 1.0): nothing else. */
export const CAEP_CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const CAEP_ASSURANCE_LEVEL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change';
export const CAEP_SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const RISC_CREDENTIAL_CHANGE_REQUIRED =
  'https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required';
export const SSF_VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

/** What a stream may ask for (`events_supported`); verification events go to every stream that asks for one. */
export const SSF_EVENTS_SUPPORTED = [
  CAEP_CREDENTIAL_CHANGE,
  CAEP_ASSURANCE_LEVEL_CHANGE,
  CAEP_SESSION_REVOKED,
  RISC_CREDENTIAL_CHANGE_REQUIRED,
] as const;

/** CAEP 1.0's credential types of the factors that have one; recovery codes have none and never go to SSF. */
const CREDENTIAL_TYPES = new Set(['app', 'phone-sms', 'fido2-platform', 'fido2-roaming']);

/**
 * One event about one subject, before it is a SET: the user (iss_sub), with the
 * organization (complex, tenant) for an organization's event. The claims are
 * only values the specifications define: ids, times, enumerations.
 */
export interface SsfEvent {
  type: string;
  userId: string;
  organizationId: string | null;
  claims: Record<string, string | number>;
}

/** CAEP's `initiating_entity`: the user, an admin (any other caller), or the system (a job). */
function initiatingEntity(actor: Actor, userId: string): 'user' | 'admin' | 'system' {
  if (actor.actorId === null) return 'system';
  return actor.actorId === userId ? 'user' : 'admin';
}

/**
 * The CAEP events of an audited change of a user's own factors (the mapping of
 * the contract's "Security signals"): a factor added (`create`), removed
 * (`delete`, one per credential type when two-factor was turned off), reset by an
 * admin (`revoke`); two-factor on or off (assurance-level-change, NIST AAL 2 or
 * 1); trusted devices revoked (session-revoked). RISC's
 * account-credential-change-required is decided by the writer, which reads
 * the organization (SsfEventWriter).
 *
 * `change` is the factor action's meaning (src/module.ts FactorAction), null for
 * the service's own actions.
 */
export function caepEventsOf(
  actor: Actor,
  entry: AuditEntry,
  change: 'added' | 'removed' | null,
  now: Date,
): SsfEvent[] {
  const userId = entry.userId;
  if (!userId) return [];
  const common = {
    event_timestamp: Math.floor(now.getTime() / 1000),
    initiating_entity: initiatingEntity(actor, userId),
  };
  const event = (type: string, claims: Record<string, string | number> = {}): SsfEvent => ({
    type,
    userId,
    organizationId: null,
    claims: { ...claims, ...common },
  });
  const credentials = (changeType: 'create' | 'delete' | 'revoke') =>
    (entry.details?.credentialTypes ?? [])
      .filter((type) => CREDENTIAL_TYPES.has(type))
      .map((type) => event(CAEP_CREDENTIAL_CHANGE, { credential_type: type, change_type: changeType }));
  const assurance = (on: boolean) =>
    event(CAEP_ASSURANCE_LEVEL_CHANGE, {
      namespace: 'NIST-AAL',
      current_level: on ? 'nist-aal2' : 'nist-aal1',
      previous_level: on ? 'nist-aal1' : 'nist-aal2',
      change_direction: on ? 'increase' : 'decrease',
    });

  if (change === 'added') return credentials('create');
  if (change === 'removed') return credentials('delete');
  switch (entry.action) {
    case 'TWO_FACTOR_ENABLED':
      return [assurance(true)];
    case 'TWO_FACTOR_DISABLED':
      // Turned off by the user: every credential went with it (none listed when the last one was removed alone).
      return [...credentials('delete'), assurance(false)];
    case 'TWO_FACTOR_RESET_BY_ADMIN': {
      const revoked = credentials('revoke');
      return revoked.length > 0 ? [...revoked, assurance(false)] : [];
    }
    case 'TRUSTED_DEVICE_REVOKED':
    case 'TRUSTED_DEVICES_REVOKED':
      return [event(CAEP_SESSION_REVOKED)];
    default:
      return [];
  }
}

/** RISC 1.0 account-credential-change-required about a member, with the organization as its tenant. */
export function credentialChangeRequired(userId: string, organizationId: string): SsfEvent {
  return { type: RISC_CREDENTIAL_CHANGE_REQUIRED, userId, organizationId, claims: {} };
}
