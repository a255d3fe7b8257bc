import type { AuditEventRepository } from '../audit/audit-event.repository';
import type { AuditLog } from '../audit/audit-log';
import type { TwoFactorLifecycle } from '../factors/two-factor-lifecycle';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { Module } from '../module';
import type { MembershipRepository } from '../organizations/membership.repository';
import type { OrganizationRepository } from '../organizations/organization.repository';
import type { UserRepository } from '../users/user.repository';
import { DirectoryResolver } from './directory.resolver';
import { DirectoryService, type MemberExemptions } from './directory.service';
import { OrganizationDeletionRecord } from './organization-deletion.entity';
import { OrganizationPurge } from './organization-purge';

interface DirectoryNeeds {
  database: Database;
  clock: Clock;
  logger: Logger;
  users: UserRepository;
  organizations: OrganizationRepository;
  memberships: MembershipRepository;
  lifecycle: TwoFactorLifecycle;
  auditEvents: AuditEventRepository;
  audit: AuditLog;
  /** Ends a member's exemption when the member leaves or becomes an owner (the enforcement module). */
  exemptions: MemberExemptions;
}

/** The upstream directory's sync: organizations, memberships, deletions (purged in the background). */
export const directoryModule: Module<DirectoryNeeds> = {
  name: 'directory',
  entities: [OrganizationDeletionRecord],
  resolvers: [DirectoryResolver],
  create(r) {
    const purge = new OrganizationPurge(r.database);
    const job = new PeriodicJob(
      'organization purge',
      LIMITS.backgroundJobIntervalSeconds * 1000,
      () => purge.run(),
      r.logger,
    );
    const directory = new DirectoryService({
      database: r.database,
      users: r.users,
      organizations: r.organizations,
      memberships: r.memberships,
      lifecycle: r.lifecycle,
      auditEvents: r.auditEvents,
      audit: r.audit,
      exemptions: r.exemptions,
      clock: r.clock,
      purge,
      purgeSoon: () => void job.runOnce(),
    });
    return { resolvers: [new DirectoryResolver(directory)], background: [job] };
  },
};
