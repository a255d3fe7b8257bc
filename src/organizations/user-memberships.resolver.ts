import { Authorized, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Caller } from '../callers/caller';
import { AppError } from '../errors';
import { SignedIn } from '../graphql/auth';
import { mayReadUser } from '../users/user.resolver';
import { UserView } from '../users/user.types';
import type { OrganizationService } from './organization.service';
import { Membership } from './organization.types';

/** `User.memberships`: resolved here, so that users/ need not know organizations. */
@Resolver(() => UserView)
export class UserMembershipsResolver {
  constructor(private readonly organizations: OrganizationService) {}

  @Authorized()
  @FieldResolver(() => [Membership])
  memberships(@Root() user: UserView, @SignedIn() caller: Caller): Promise<Membership[]> {
    if (!mayReadUser(caller, user))
      throw new AppError('FORBIDDEN', `Only ${user.id} and twofactor:read callers see its memberships.`);
    return this.organizations.membershipsOf(user.id, caller);
  }
}
