import { Field, ObjectType } from 'type-graphql';
import { TwoFactorStatus } from '../users/user.types';

@ObjectType()
export class TwoFactorSetupResult {
  @Field(() => TwoFactorStatus)
  status: TwoFactorStatus;

  @Field(() => [String], {
    nullable: true,
    description:
      'Ten fresh recovery codes when this confirmation turned two-factor on; null otherwise.\nEach is 25 characters of the RFC 4648 base32 alphabet in five groups: xxxxx-xxxxx-xxxxx-xxxxx-xxxxx.',
  })
  recoveryCodes: string[] | null;
}
