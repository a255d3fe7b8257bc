import './audit-actions';
import type { AuditLog } from '../audit/audit-log';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { Module } from '../module';
import type { KeyJudge } from '../organizations/key-judge';
import type { MembershipRepository } from '../organizations/membership.repository';
import type { OrganizationRepository } from '../organizations/organization.repository';
import type { OrganizationService } from '../organizations/organization.service';
import type { UserRepository } from '../users/user.repository';
import { EnforcementReads } from './enforcement-reads';
import {
  ComplianceExemptionsResolver,
  EnforcementResolver,
  MemberExemptionResolver,
  MembershipExemptionResolver,
  OrganizationExemptionsResolver,
  RequirementPreviewResolver,
} from './enforcement.resolver';
import { ExemptionRepository } from './exemption.repository';
import { Exemptions } from './exemptions';
import { GracePeriodReminderRecord } from './grace-reminder.entity';
import { GraceReminders } from './grace-reminders';
import { GracePeriodReminders1796685284299 } from './migrations/1796685284299-GracePeriodReminders';
import { RequirementCounts } from './requirement-counts';

interface EnforcementNeeds {
  database: Database;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  users: UserRepository;
  organizations: OrganizationRepository;
  memberships: MembershipRepository;
  organizationService: OrganizationService;
  exemptionRepository: ExemptionRepository;
  exemptions: Exemptions;
  keyJudge: KeyJudge;
}

interface EnforcementGives {
  exemptionRepository: ExemptionRepository;
  /** Exemptions: granted and ended by owners, ended with a membership (directory sync) and when they run out. */
  exemptions: Exemptions;
}

/**
 * Requiring two-factor as a lifecycle (docs/adr/0020-requiring-as-a-lifecycle.md):
 * the preview before requiring, exemptions with an end, a grace period's
 * reminders. The policy itself, access and the exemption's row (read by
 * organizationAccess) are the organizations module's.
 */
export const enforcementModule: Module<EnforcementNeeds, EnforcementGives> = {
  name: 'enforcement',
  entities: [GracePeriodReminderRecord],
  migrations: [GracePeriodReminders1796685284299],
  resolvers: [
    EnforcementResolver,
    RequirementPreviewResolver,
    OrganizationExemptionsResolver,
    ComplianceExemptionsResolver,
    MemberExemptionResolver,
    MembershipExemptionResolver,
  ],
  provides: {
    exemptionRepository: ({ database }) => new ExemptionRepository(database),
    exemptions: (r) =>
      new Exemptions(r.database, r.exemptionRepository, r.organizations, r.memberships, r.users, r.audit, r.clock),
  },
  create(r) {
    const counts = new RequirementCounts(r.exemptionRepository, r.keyJudge);
    const reads = new EnforcementReads(
      r.database,
      r.organizationService,
      r.memberships,
      r.exemptionRepository,
      counts,
      r.clock,
      r.keyJudge,
    );
    const reminders = new GraceReminders(r.database, r.organizations, counts, r.audit, r.clock);
    const every = LIMITS.enforcementJobIntervalSeconds * 1000;
    return {
      resolvers: [
        new EnforcementResolver(reads, r.exemptions),
        new RequirementPreviewResolver(reads),
        new OrganizationExemptionsResolver(reads),
        new ComplianceExemptionsResolver(reads),
        new MemberExemptionResolver(reads),
        new MembershipExemptionResolver(reads),
      ],
      background: [
        new PeriodicJob('exemptions that ran out', every, () => r.exemptions.endRunOut(), r.logger),
        new PeriodicJob('grace period reminders', every, () => reminders.run(), r.logger),
      ],
    };
  },
};
