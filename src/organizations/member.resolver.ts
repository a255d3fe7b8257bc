import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../graphql/context';
import { TwoFactorMethod } from '../users/two-factor-method';
import type { TwoFactorStatusReader } from '../users/two-factor-status.reader';
import { Member } from './organization.types';

/** What an owner sees of a member's second factors: which kinds, nothing more. */
@Resolver(() => Member)
export class MemberResolver {
  constructor(private readonly statuses: TwoFactorStatusReader) {}

  @FieldResolver(() => [TwoFactorMethod])
  async twoFactorMethods(@Root() member: Member, @Ctx() context: Context): Promise<TwoFactorMethod[]> {
    return (await this.statuses.inRequest(context, member.user.id)).methods;
  }
}
