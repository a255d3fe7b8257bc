import { AuditEventRecord } from './audit-event.entity';
import { MembershipRecord } from './membership.entity';
import { OrganizationRecord } from './organization.entity';
import { PendingSetupRecord } from './pending-setup.entity';
import { RecoveryCodeRecord } from './recovery-code.entity';
import { SmsFactorRecord } from './sms-factor.entity';
import { TotpFactorRecord } from './totp-factor.entity';
import { UserRecord } from './user.entity';

export {
  AuditEventRecord,
  MembershipRecord,
  OrganizationRecord,
  PendingSetupRecord,
  RecoveryCodeRecord,
  SmsFactorRecord,
  TotpFactorRecord,
  UserRecord,
};

export const entities = [
  UserRecord,
  TotpFactorRecord,
  SmsFactorRecord,
  PendingSetupRecord,
  RecoveryCodeRecord,
  OrganizationRecord,
  MembershipRecord,
  AuditEventRecord,
];
