import { AUTHENTICATOR_ENTITIES } from '../../../authenticators/metadata.entity';
import { FACTOR_MODULES } from '../../../factors/modules';
import { SpentLoginChallengeRecord } from '../../../login/spent-login-challenge.entity';
import { TrustedDeviceRecord } from '../../../trusted-devices/trusted-device.entity';
import { WEBHOOK_ENTITIES } from '../../../webhooks/webhook.entities';
import { AuditEventRecord } from './audit-event.entity';
import { MembershipRecord } from './membership.entity';
import { OrganizationDeletionRecord } from './organization-deletion.entity';
import { OrganizationRecord } from './organization.entity';
import { PendingSetupRecord } from './pending-setup.entity';
import { UserRecord } from './user.entity';

export {
  AuditEventRecord,
  MembershipRecord,
  OrganizationDeletionRecord,
  OrganizationRecord,
  PendingSetupRecord,
  UserRecord,
};

/** The core tables, trusted devices, then each factor's own (factors/<factor>/*.entity.ts). */
/** The core tables, then each factor's own (factors/<factor>/*.entity.ts), then the webhook outbox's. */
export const entities = [
  UserRecord,
  PendingSetupRecord,
  OrganizationRecord,
  OrganizationDeletionRecord,
  MembershipRecord,
  AuditEventRecord,
  TrustedDeviceRecord,
  SpentLoginChallengeRecord,
  ...FACTOR_MODULES.flatMap((module) => module.entities),
  ...WEBHOOK_ENTITIES,
  ...AUTHENTICATOR_ENTITIES,
];
