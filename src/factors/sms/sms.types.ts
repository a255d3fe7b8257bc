import { Field, ObjectType } from 'type-graphql';

/** Where a code went and when: the two contract types share these fields (never exposed itself). */
@ObjectType()
abstract class SentCodeFields {
  @Field()
  phoneNumberMasked: string;

  @Field()
  codeExpiresAt: Date;

  @Field()
  resendAvailableAt: Date;
}

@ObjectType()
export class SmsSetup extends SentCodeFields {}

@ObjectType()
export class SmsCodeSent extends SentCodeFields {}
