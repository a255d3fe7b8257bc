import type { AuditLog } from '../audit/audit-log';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { Module } from '../module';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { UserRepository } from '../users/user.repository';
import { MemberResolver } from './member.resolver';
import { MembershipRecord } from './membership.entity';
import { MembershipRepository } from './membership.repository';
import { Exemptions1796685284298 } from './migrations/1796685284298-Exemptions';
import { type MemberStateChanges, OrganizationMembers } from './organization-members';
import { OrganizationPolicyService } from './organization-policy.service';
import { OrganizationRecord } from './organization.entity';
import { OrganizationRepository } from './organization.repository';
import { OrganizationResolver } from './organization.resolver';
import { OrganizationService } from './organization.service';
import { TwoFactorExemptionRecord } from './two-factor-exemption.entity';
import { UserMembershipsResolver } from './user-memberships.resolver';

interface OrganizationsNeeds {
  database: Database;
  clock: Clock;
  users: UserRepository;
  audit: AuditLog;
  /** A member's access moved with the member's own change: a security event (the webhooks module). */
  memberStateChanges: MemberStateChanges;
  organizations: OrganizationRepository;
  memberships: MembershipRepository;
  organizationService: OrganizationService;
  organizationPolicy: OrganizationPolicyService;
  statuses: TwoFactorStatusReader;
}

interface OrganizationsGives {
  organizations: OrganizationRepository;
  memberships: MembershipRepository;
  /** Keeps memberships' copies of a member's two-factor state, and the counters, in step. */
  organizationMembers: OrganizationMembers;
  organizationService: OrganizationService;
  organizationPolicy: OrganizationPolicyService;
  /** Which organizations a user owns, for the audit log. */
  organizationOwners: OrganizationService;
}

/** Organizations' two-factor policy, access, compliance and members. */
export const organizationsModule: Module<OrganizationsNeeds, OrganizationsGives> = {
  name: 'organizations',
  entities: [OrganizationRecord, MembershipRecord, TwoFactorExemptionRecord],
  migrations: [Exemptions1796685284298],
  resolvers: [UserMembershipsResolver, OrganizationResolver, MemberResolver],
  provides: {
    organizations: ({ database }) => new OrganizationRepository(database),
    memberships: ({ database }) => new MembershipRepository(database),
    organizationMembers: ({ memberships, organizations, users, memberStateChanges }) =>
      new OrganizationMembers(memberships, organizations, users, memberStateChanges),
    organizationService: ({ database, organizations, memberships, clock }) =>
      new OrganizationService(database, organizations, memberships, clock),
    organizationOwners: ({ organizationService }) => organizationService,
    organizationPolicy: ({ database, organizations, memberships, audit, clock }) =>
      new OrganizationPolicyService(database, organizations, memberships, audit, clock),
  },
  create: ({ organizationService, organizationPolicy, statuses }) => ({
    resolvers: [
      new UserMembershipsResolver(organizationService),
      new OrganizationResolver(organizationService, organizationPolicy),
      new MemberResolver(statuses),
    ],
  }),
};
