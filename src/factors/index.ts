import type { AnswerChecker } from '../attempts/answer-checker';
import { FactorRegistry } from '../attempts/factor-registry';
import type { StepUp } from '../attempts/step-up';
import type { AuditLog } from '../audit/audit-log';
import type { Config } from '../config/config';
import type { Clock } from '../infra/clock';
import type { SecretBox } from '../infra/crypto/cipher';
import type { Database } from '../infra/db/database';
import { ciphertextsOf, type Module } from '../module';
import type { OrganizationMembers } from '../organizations/organization-members';
import type { TrustedDeviceService } from '../trusted-devices/trusted-device.service';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { UserRepository } from '../users/user.repository';
import { EnrollmentGuard } from './enrollment-guard';
import { FactorSetup } from './factor-setup';
import { pendingSetupBinding, PendingSetupRecord } from './pending-setup.entity';
import { PendingSetupRepository } from './pending-setup.repository';
import { TwoFactorLifecycle, type TwoFactorLifecycleDependencies } from './two-factor-lifecycle';
import { TwoFactorResolver } from './two-factor.resolver';
import { TwoFactorService } from './two-factor.service';

interface FactorsNeeds {
  config: Pick<Config, 'auth'>;
  database: Database;
  clock: Clock;
  secrets: SecretBox;
  users: UserRepository;
  statuses: TwoFactorStatusReader;
  audit: AuditLog;
  checker: AnswerChecker;
  stepUp: StepUp;
  organizationMembers: OrganizationMembers;
  trustedDevices: Pick<TrustedDeviceService, 'revokeAllIn'>;
  recoveryCodes: TwoFactorLifecycleDependencies['recoveryCodes'];
  recoveryCodeIssuer: TwoFactorLifecycleDependencies['issuer'];
  factors: FactorRegistry;
  pendingSetups: PendingSetupRepository;
  lifecycle: TwoFactorLifecycle;
  setup: FactorSetup;
  twoFactor: TwoFactorService;
}

/** What every factor module builds on (factors/<factor>/index.ts). */
interface FactorsGives {
  /** The factors in the order an answer is tried: filled by the composition root from the module list. */
  factors: FactorRegistry;
  /** Each factor's part of the status read (users/status-part.ts). */
  statusParts: FactorRegistry;
  pendingSetups: PendingSetupRepository;
  lifecycle: TwoFactorLifecycle;
  setup: FactorSetup;
  twoFactor: TwoFactorService;
}

/** Enrolling, turning two-factor on and off, removing factors: the same for every factor. */
export const factorsModule: Module<FactorsNeeds, FactorsGives> = {
  name: 'factors',
  entities: [PendingSetupRecord],
  resolvers: [TwoFactorResolver],
  // lookup_hash (a phone number's, SMS only) is rewritten with it, as sms_factors' phone_hash is.
  ciphertexts: [
    ciphertextsOf({
      entity: PendingSetupRecord,
      key: ['userId', 'method'],
      column: 'payloadCiphertext',
      binding: (row) => pendingSetupBinding(row.userId, row.method),
      hashes: ['lookupHash'],
    }),
  ],
  provides: {
    factors: () => new FactorRegistry(),
    statusParts: ({ factors }) => factors,
    pendingSetups: () => new PendingSetupRepository(),
    lifecycle: (r) =>
      new TwoFactorLifecycle({
        users: r.users,
        registry: r.factors,
        pendingSetups: r.pendingSetups,
        recoveryCodes: r.recoveryCodes,
        issuer: r.recoveryCodeIssuer,
        organizations: r.organizationMembers,
        trustedDevices: r.trustedDevices,
        audit: r.audit,
      }),
    setup: (r) =>
      new FactorSetup({
        database: r.database,
        pendingSetups: r.pendingSetups,
        checker: r.checker,
        stepUp: r.stepUp,
        lifecycle: r.lifecycle,
        enrollment: new EnrollmentGuard(r.clock, r.config.auth.reauthMaxAgeSeconds),
        statuses: r.statuses,
        secrets: r.secrets,
        clock: r.clock,
      }),
    twoFactor: (r) =>
      new TwoFactorService({
        database: r.database,
        registry: r.factors,
        stepUp: r.stepUp,
        lifecycle: r.lifecycle,
        statuses: r.statuses,
        audit: r.audit,
      }),
  },
  create: ({ twoFactor }) => ({ resolvers: [new TwoFactorResolver(twoFactor)] }),
};
