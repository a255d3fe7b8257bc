import type { GraphQLSchema } from 'graphql';
import { buildSchema, type NonEmptyArray } from 'type-graphql';
import { AdminResolver } from '../admin/admin.resolver';
import { AuditResolver } from '../audit/audit.resolver';
import { DirectoryResolver } from '../directory/directory.resolver';
import { RecoveryCodesResolver } from '../factors/recovery-codes/recovery-codes.resolver';
import { SmsResolver } from '../factors/sms/sms.resolver';
import { TotpResolver } from '../factors/totp/totp.resolver';
import { TwoFactorResolver } from '../factors/two-factor.resolver';
import { LoginResolver } from '../login/login.resolver';
import { OrganizationResolver } from '../organizations/organization.resolver';
import { UserResolver } from '../users/user.resolver';

/** Every resolver of the API, in one list. */
export const resolverClasses: NonEmptyArray<Function> = [
  UserResolver,
  OrganizationResolver,
  DirectoryResolver,
  TotpResolver,
  SmsResolver,
  LoginResolver,
  RecoveryCodesResolver,
  TwoFactorResolver,
  AuditResolver,
  AdminResolver,
];

/**
 * Builds the schema. Resolver instances come from the composition root (their
 * services are constructor arguments); without them the schema is only printed.
 */
export function buildGraphQLSchema(instances: object[] = []): Promise<GraphQLSchema> {
  const byClass = new Map<Function, object>(instances.map((instance) => [instance.constructor, instance]));
  return buildSchema({
    resolvers: resolverClasses,
    validate: false,
    container: {
      get: (someClass: Function) => {
        const instance = byClass.get(someClass);
        if (!instance) throw new Error(`no instance of ${someClass.name} was provided`);
        return instance;
      },
    },
  });
}
