import type { GraphQLSchema } from 'graphql';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import { AdminResolver } from '../admin/admin.resolver';
import { AuditResolver } from '../audit/audit.resolver';
import { AuthenticatorModelResolver } from '../authenticators/authenticators.resolver';
import { DirectoryResolver } from '../directory/directory.resolver';
import { FACTOR_MODULES } from '../factors/modules';
import { TwoFactorResolver } from '../factors/two-factor.resolver';
import '../factors/two-factor.types';
import { LoginResolver, LoginVerificationResolver } from '../login/login.resolver';
import { MemberResolver } from '../organizations/member.resolver';
import { OrganizationResolver } from '../organizations/organization.resolver';
import { UserMembershipsResolver } from '../organizations/user-memberships.resolver';
import { AuditEventOcsfResolver } from '../signals/ocsf';
import { TrustedDeviceResolver, TrustedDeviceStatusResolver } from '../trusted-devices/trusted-device.resolver';
import { UserResolver } from '../users/user.resolver';
import { WebhookResolver } from '../webhooks/webhook.resolver';
import { authChecker } from './auth';

/** Every resolver of the API: the core's, then each factor's (factors/modules.ts). */
export const resolverClasses: NonEmptyArray<Function> = [
  UserResolver,
  UserMembershipsResolver,
  OrganizationResolver,
  MemberResolver,
  DirectoryResolver,
  LoginResolver,
  LoginVerificationResolver,
  TwoFactorResolver,
  AuditResolver,
  AuditEventOcsfResolver,
  AdminResolver,
  TrustedDeviceResolver,
  TrustedDeviceStatusResolver,
  WebhookResolver,
  AuthenticatorModelResolver,
  ...FACTOR_MODULES.flatMap((module) => module.resolvers),
];

/**
 * Builds the schema. Resolver instances come from the composition root (their
 * services are constructor arguments); with none the schema is only printed.
 * A resolver class without its instance fails here, at boot, not at its first request.
 */
export function buildGraphQLSchema(instances: object[] = []): Promise<GraphQLSchema> {
  const byClass = new Map<Function, object>(instances.map((instance) => [instance.constructor, instance]));
  if (instances.length > 0) {
    const missing = resolverClasses
      .filter((resolverClass) => !byClass.has(resolverClass))
      .map((resolverClass) => resolverClass.name);
    if (missing.length > 0) throw new Error(`no instance of ${missing.join(', ')} was provided`);
  }
  return buildSchema({
    resolvers: resolverClasses,
    validate: false,
    authChecker,
    container: {
      get: (someClass: Function) => {
        const instance = byClass.get(someClass);
        if (!instance) throw new Error(`no instance of ${someClass.name} was provided`);
        return instance;
      },
    },
  });
}
