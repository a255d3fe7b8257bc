import type { AuditLog } from '../audit/audit-log';
import type { TwoFactorLifecycle } from '../factors/two-factor-lifecycle';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { Module } from '../module';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { UserRepository } from '../users/user.repository';
import { AdminResolver } from './admin.resolver';
import { AdminService } from './admin.service';

interface AdminNeeds {
  database: Database;
  clock: Clock;
  users: UserRepository;
  lifecycle: TwoFactorLifecycle;
  statuses: TwoFactorStatusReader;
  audit: AuditLog;
}

/** Support (twofactor:admin): what a user cannot do alone. */
export const adminModule: Module<AdminNeeds> = {
  name: 'admin',
  resolvers: [AdminResolver],
  create: (r) => ({ resolvers: [new AdminResolver(new AdminService(r))] }),
};
