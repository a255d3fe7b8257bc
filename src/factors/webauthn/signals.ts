import type { FactorSignals } from '../../module';
import { TwoFactorMethod } from '../../users/two-factor-method';

declare module '../../audit/audit-log' {
  interface AuditActions {
    WEBAUTHN_CREDENTIAL_ADDED: 'factor';
    WEBAUTHN_CREDENTIAL_RENAMED: 'factor';
    WEBAUTHN_CREDENTIAL_REMOVED: 'factor';
    WEBAUTHN_CLONE_SUSPECTED: 'factor';
  }
}

/** What a security key's audited actions mean to webhooks and OCSF. */
export const WEBAUTHN_SIGNALS: FactorSignals = {
  method: TwoFactorMethod.WEBAUTHN,
  ocsf: { factor_type_id: 10, factor_type: 'WebAuthn' },
  actions: {
    WEBAUTHN_CREDENTIAL_ADDED: { change: 'added', message: 'A security key or passkey was added.' },
    WEBAUTHN_CREDENTIAL_REMOVED: { change: 'removed', message: 'A security key or passkey was removed.' },
    WEBAUTHN_CREDENTIAL_RENAMED: {
      change: 'renamed',
      other: 'MFA Factor Rename',
      message: 'A security key or passkey was renamed.',
    },
    WEBAUTHN_CLONE_SUSPECTED: {
      change: 'suspected',
      other: 'Cloned Authenticator Suspected',
      message: "A security key's signature counter did not grow: it may have been cloned. The answer was refused.",
    },
  },
};
