import { registerEnumType } from 'type-graphql';

export enum OrganizationRole {
  OWNER = 'OWNER',
  MEMBER = 'MEMBER',
}
registerEnumType(OrganizationRole, { name: 'OrganizationRole' });

export const isOrganizationRole = (value: unknown): value is OrganizationRole =>
  value === OrganizationRole.OWNER || value === OrganizationRole.MEMBER;
