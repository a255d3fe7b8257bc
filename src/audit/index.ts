import type { Config } from '../config/config';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { Module } from '../module';
import { AuditEventRecord } from './audit-event.entity';
import { AuditEventRepository } from './audit-event.repository';
import { type AuditedChanges, AuditLog } from './audit-log';
import { AuditQueryService, type OrganizationOwners } from './audit-query.service';
import { AuditRetention } from './audit-retention';
import { AuditResolver } from './audit.resolver';

interface AuditNeeds {
  config: Pick<Config, 'auditRetentionDays'>;
  database: Database;
  clock: Clock;
  logger: Logger;
  auditEvents: AuditEventRepository;
  /** Every audited security change also becomes a security event, in its transaction (the webhooks module). */
  securityEvents: AuditedChanges;
  /** Which organizations a user owns (the organizations module). */
  organizationOwners: OrganizationOwners;
}

interface AuditGives {
  auditEvents: AuditEventRepository;
  audit: AuditLog;
}

/** Who did what, when: written in each change's transaction, read by `auditEvents`, kept AUDIT_RETENTION_DAYS. */
export const auditModule: Module<AuditNeeds, AuditGives> = {
  name: 'audit',
  entities: [AuditEventRecord],
  resolvers: [AuditResolver],
  provides: {
    auditEvents: ({ database }) => new AuditEventRepository(database),
    audit: ({ auditEvents, securityEvents }) => new AuditLog(auditEvents, securityEvents),
  },
  create({ config, database, clock, logger, auditEvents, organizationOwners }) {
    const retention = new AuditRetention(database, config.auditRetentionDays, clock);
    return {
      resolvers: [new AuditResolver(new AuditQueryService(database, auditEvents, organizationOwners))],
      background: [
        new PeriodicJob('audit retention', LIMITS.backgroundJobIntervalSeconds * 1000, () => retention.run(), logger),
      ],
    };
  },
};
