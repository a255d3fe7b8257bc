import type { FactorSignals } from '../../module';
import { TwoFactorMethod } from '../../users/two-factor-method';

declare module '../../audit/audit-log' {
  interface AuditActions {
    RECOVERY_CODE_USED: 'factor';
    RECOVERY_CODES_VIEWED: 'factor';
    RECOVERY_CODES_REGENERATED: 'factor';
  }
}

/** What the recovery codes' audited actions mean to webhooks and OCSF (which has no type for them: 99, Other). */
export const RECOVERY_CODE_SIGNALS: FactorSignals = {
  method: TwoFactorMethod.RECOVERY_CODE,
  ocsf: { factor_type_id: 99, factor_type: 'Recovery Code' },
  actions: {
    RECOVERY_CODE_USED: {
      change: 'used',
      event: 'recovery_code.used',
      other: 'Recovery Code Use',
      message: 'A recovery code was used (each works once).',
    },
    RECOVERY_CODES_VIEWED: {
      change: 'viewed',
      event: 'recovery_codes.viewed',
      message: 'The recovery codes were shown.',
    },
    RECOVERY_CODES_REGENERATED: {
      change: 'added',
      event: 'recovery_codes.regenerated',
      message: 'New recovery codes replaced the old ones.',
    },
  },
};
