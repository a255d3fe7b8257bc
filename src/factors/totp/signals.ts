import type { FactorSignals } from '../../module';
import { TwoFactorMethod } from '../../users/two-factor-method';

declare module '../../audit/audit-log' {
  interface AuditActions {
    TOTP_ENABLED: 'factor';
    TOTP_REMOVED: 'factor';
  }
}

/** What an authenticator app's audited actions mean to webhooks and OCSF. */
export const TOTP_SIGNALS: FactorSignals = {
  method: TwoFactorMethod.TOTP,
  ocsf: { factor_type_id: 7, factor_type: 'OTP', is_totp: true },
  actions: {
    TOTP_ENABLED: { change: 'added', message: 'An authenticator app (TOTP) was added.' },
    TOTP_REMOVED: { change: 'removed', message: 'An authenticator app (TOTP) was removed.' },
  },
};
