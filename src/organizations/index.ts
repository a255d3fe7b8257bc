import type { AuditLog } from '../audit/audit-log';
import type { ModelRegistry } from '../authenticators/model-catalog';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import type { Module } from '../module';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import type { UserRepository } from '../users/user.repository';
import { KeyJudge } from './key-judge';
import { KeySetRecord, OrganizationKeySetCountRecord } from './key-set.entity';
import { KeySets } from './key-sets';
import { MemberResolver } from './member.resolver';
import { MembershipRecord } from './membership.entity';
import { MembershipRepository } from './membership.repository';
import { Exemptions1796685284298 } from './migrations/1796685284298-Exemptions';
import { KeySets1796685498081 } from './migrations/1796685498081-KeySets';
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
  /** The loaded Metadata Service blob: which models are reported compromised. */
  authenticatorModels: ModelRegistry;
  keyJudge: KeyJudge;
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
  /** Whether a member's keys meet an organization's authenticator policy (docs/adr/0021-key-sets.md). */
  keyJudge: KeyJudge;
}

/** Organizations' two-factor policy, access, compliance and members. */
export const organizationsModule: Module<OrganizationsNeeds, OrganizationsGives> = {
  name: 'organizations',
  entities: [
    OrganizationRecord,
    MembershipRecord,
    TwoFactorExemptionRecord,
    KeySetRecord,
    OrganizationKeySetCountRecord,
  ],
  migrations: [Exemptions1796685284298, KeySets1796685498081],
  resolvers: [UserMembershipsResolver, OrganizationResolver, MemberResolver],
  provides: {
    organizations: ({ database }) => new OrganizationRepository(database),
    memberships: ({ database }) => new MembershipRepository(database),
    keyJudge: ({ database, authenticatorModels }) => new KeyJudge(new KeySets(database), authenticatorModels),
    organizationMembers: ({ memberships, organizations, users, memberStateChanges, keyJudge }) =>
      new OrganizationMembers(memberships, organizations, users, memberStateChanges, keyJudge),
    organizationService: ({ database, organizations, memberships, clock, keyJudge }) =>
      new OrganizationService(database, organizations, memberships, clock, keyJudge),
    organizationOwners: ({ organizationService }) => organizationService,
    organizationPolicy: ({ database, organizations, memberships, audit, clock, keyJudge, authenticatorModels }) =>
      new OrganizationPolicyService(database, organizations, memberships, audit, clock, keyJudge, authenticatorModels),
  },
  create: ({ organizationService, organizationPolicy, statuses }) => ({
    resolvers: [
      new UserMembershipsResolver(organizationService),
      new OrganizationResolver(organizationService, organizationPolicy),
      new MemberResolver(statuses),
    ],
  }),
};
