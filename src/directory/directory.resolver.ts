import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { badInput } from '../errors';
import type { Context } from '../graphql/context';
import { IdArg } from '../graphql/id-arg';
import { isOrganizationRole, OrganizationRole } from '../organizations/organization-role';
import { Membership, OrganizationView } from '../organizations/organization.types';
import type { DirectoryService } from './directory.service';

/** Directory sync (twofactor:directory): the source of truth for organizations lives upstream. */
@Authorized('twofactor:directory')
@Resolver()
export class DirectoryResolver {
  constructor(private readonly directory: DirectoryService) {}

  @Mutation(() => OrganizationView)
  upsertOrganization(
    @IdArg('id') id: string,
    @Arg('name') name: string,
    @Ctx() { actor }: Context,
  ): Promise<OrganizationView> {
    return this.directory.upsertOrganization(actor, id, name);
  }

  @Mutation(() => Membership)
  setMembership(
    @IdArg('organizationId') organizationId: string,
    @IdArg('userId') userId: string,
    @Arg('role', () => OrganizationRole) role: OrganizationRole,
    @Ctx() { actor }: Context,
  ): Promise<Membership> {
    if (!isOrganizationRole(role)) throw badInput('role must be OWNER or MEMBER.', 'role');
    return this.directory.setMembership(actor, organizationId, userId, role);
  }

  @Mutation(() => Boolean)
  removeMembership(
    @IdArg('organizationId') organizationId: string,
    @IdArg('userId') userId: string,
    @Ctx() { actor }: Context,
  ): Promise<boolean> {
    return this.directory.removeMembership(actor, organizationId, userId);
  }

  @Mutation(() => Boolean, { description: 'Removes the organization and its memberships; its audit events stay.' })
  deleteOrganization(@IdArg('id') id: string, @Ctx() { actor }: Context): Promise<boolean> {
    return this.directory.deleteOrganization(actor, id);
  }

  @Mutation(() => Boolean, {
    description: 'Erases the user: factors, codes, memberships; audit events keep only the id.',
  })
  deleteUser(@IdArg('userId') userId: string, @Ctx() { actor }: Context): Promise<boolean> {
    return this.directory.deleteUser(actor, userId);
  }
}
