import { Field, ID, Int, ObjectType } from 'type-graphql';
import { TwoFactorMethod } from '../factors/method';

@ObjectType()
export class LoginChallenge {
  @Field(() => ID, { description: 'Unguessable; the web client presents it to verify. Single use.' })
  id: string;

  @Field(() => ID)
  userId: string;

  @Field(() => [TwoFactorMethod], {
    description:
      'The methods this user can answer with (RECOVERY_CODE while codes remain);\nempty when the user has no two-factor.',
  })
  methods: TwoFactorMethod[];

  @Field(() => String, { nullable: true })
  phoneNumberMasked: string | null;

  @Field()
  expiresAt: Date;
}

@ObjectType()
export class LoginVerification {
  @Field(() => ID)
  userId: string;

  @Field(() => TwoFactorMethod)
  method: TwoFactorMethod;

  @Field({ description: 'A short-lived JWT signed by this service (see README.md) for the login service.' })
  assertion: string;

  @Field(() => Int)
  recoveryCodesRemaining: number;
}
