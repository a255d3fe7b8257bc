import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { TwoFactorMethod } from '../factors/method';
import type { Context } from '../graphql/context';
import { Member } from './organization.types';

/** What an owner sees of a member's second factors: which kinds, nothing more. */
@Resolver(() => Member)
export class MemberResolver {
  @FieldResolver(() => [TwoFactorMethod])
  async twoFactorMethods(@Root() member: Member, @Ctx() { loaders }: Context): Promise<TwoFactorMethod[]> {
    return (await loaders.twoFactorStatus.load(member.user.id)).methods;
  }
}
