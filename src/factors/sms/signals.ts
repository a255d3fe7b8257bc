import type { FactorSignals } from '../../module';
import { TwoFactorMethod } from '../../users/two-factor-method';

declare module '../../audit/audit-log' {
  interface AuditActions {
    SMS_ENABLED: 'factor';
    SMS_REMOVED: 'factor';
    SMS_SENT: 'factor';
  }
}

/** What a phone number's audited actions mean to webhooks and OCSF. */
export const SMS_SIGNALS: FactorSignals = {
  method: TwoFactorMethod.SMS,
  ocsf: { factor_type_id: 1, factor_type: 'SMS' },
  actions: {
    SMS_ENABLED: { change: 'added', message: 'A phone number for SMS codes was added.' },
    SMS_REMOVED: { change: 'removed', message: 'A phone number for SMS codes was removed.' },
    SMS_SENT: { change: 'sent', other: 'Code Sent', message: 'A code was sent by SMS to the confirmed number.' },
  },
};
