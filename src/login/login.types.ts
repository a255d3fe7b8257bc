import { Field, ID, ObjectType } from 'type-graphql';
import { TwoFactorMethod } from '../users/two-factor-method';

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

  @Field(() => String, {
    nullable: true,
    description:
      'Present when startLoginChallenge got a valid deviceToken for this user and every organization of the user allows trusted devices: the login needs no code, and the challenge is already spent. amr is ["device"], or ["device", "hwk"] when the device was remembered at a sign-in with a security key (a device keeps the strength of the sign-in that remembered it).',
  })
  assertion: string | null;
}

/** `recoveryCodesRemaining` is read after the commit, only when asked (LoginVerificationResolver). */
@ObjectType()
export class LoginVerification {
  @Field(() => ID)
  userId: string;

  @Field(() => TwoFactorMethod)
  method: TwoFactorMethod;

  @Field({ description: 'A short-lived JWT signed by this service (see README.md) for the login service.' })
  assertion: string;

  @Field(() => String, {
    nullable: true,
    description:
      "With rememberDevice: an opaque token (shown once) for startLoginChallenge's deviceToken; null when not asked, when TRUSTED_DEVICE_DAYS is 0, or when an organization of the user forbids it.",
  })
  deviceToken: string | null;

  @Field(() => Date, { nullable: true, description: 'When deviceToken stops working: TRUSTED_DEVICE_DAYS from now.' })
  deviceTokenExpiresAt: Date | null;
}
