import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireScope } from '../callers/caller';
import { badInput } from '../errors';
import type { Context } from '../graphql/context';
import { parseId } from '../ids';
import { isOrganizationRole, OrganizationRole } from '../organizations/organization-role';
import { Membership, OrganizationView } from '../organizations/organization.types';
import type { DirectoryService } from './directory.service';

/** Directory sync (twofactor:directory): the source of truth for organizations lives upstream. */
@Resolver()
export class DirectoryResolver {
  constructor(private readonly directory: DirectoryService) {}

  @Mutation(() => OrganizationView)
  upsertOrganization(@Arg('id', () => ID) id: string, @Arg('name') name: string, @Ctx() { caller, actor }: Context): Promise<OrganizationView> {
    requireScope(caller, 'twofactor:directory');
    return this.directory.upsertOrganization(actor, parseId(id, 'id'), name);
  }

  @Mutation(() => Membership)
  setMembership(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => OrganizationRole) role: OrganizationRole,
    @Ctx() { caller, actor }: Context,
  ): Promise<Membership> {
    requireScope(caller, 'twofactor:directory');
    if (!isOrganizationRole(role)) throw badInput('role must be OWNER or MEMBER.', 'role');
    return this.directory.setMembership(actor, parseId(organizationId, 'organizationId'), parseId(userId, 'userId'), role);
  }

  @Mutation(() => Boolean)
  removeMembership(
    @Arg('organizationId', () => ID) organizationId: string,
    @Arg('userId', () => ID) userId: string,
    @Ctx() { caller, actor }: Context,
  ): Promise<boolean> {
    requireScope(caller, 'twofactor:directory');
    return this.directory.removeMembership(actor, parseId(organizationId, 'organizationId'), parseId(userId, 'userId'));
  }

  @Mutation(() => Boolean, { description: 'Removes the organization and its memberships; its audit events stay.' })
  deleteOrganization(@Arg('id', () => ID) id: string, @Ctx() { caller, actor }: Context): Promise<boolean> {
    requireScope(caller, 'twofactor:directory');
    return this.directory.deleteOrganization(actor, parseId(id, 'id'));
  }

  @Mutation(() => Boolean, { description: 'Erases the user: factors, codes, memberships; audit events keep only the id.' })
  deleteUser(@Arg('userId', () => ID) userId: string, @Ctx() { caller, actor }: Context): Promise<boolean> {
    requireScope(caller, 'twofactor:directory');
    return this.directory.deleteUser(actor, parseId(userId, 'userId'));
  }
}
