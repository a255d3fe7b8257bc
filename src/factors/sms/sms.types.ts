import { Field, ObjectType } from 'type-graphql';

@ObjectType()
export class SmsSetup {
  @Field()
  phoneNumberMasked: string;

  @Field()
  codeExpiresAt: Date;

  @Field()
  resendAvailableAt: Date;
}

@ObjectType()
export class SmsCodeSent {
  @Field()
  phoneNumberMasked: string;

  @Field()
  codeExpiresAt: Date;

  @Field()
  resendAvailableAt: Date;
}
