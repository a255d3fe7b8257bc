/**
 * The audited actions of requiring two-factor as a lifecycle (this module):
 * exemptions granted and ended, and a grace period's reminders. Each becomes a
 * webhook event (src/webhooks/event-types.ts) and an OCSF record
 * (src/signals/ocsf/ocsf-mapping.ts) like the service's other actions.
 */
declare module '../audit/audit-log' {
  interface AuditActions {
    TWO_FACTOR_EXEMPTION_GRANTED: 'service';
    TWO_FACTOR_EXEMPTION_ENDED: 'service';
    ORGANIZATION_GRACE_PERIOD_ENDING: 'service';
    ORGANIZATION_GRACE_PERIOD_ENDED: 'service';
  }
}

export {};
