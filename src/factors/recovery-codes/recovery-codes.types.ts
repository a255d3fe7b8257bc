import { Field, ObjectType } from 'type-graphql';

@ObjectType()
export class RecoveryCode {
  @Field()
  code: string;

  @Field(() => Date, { nullable: true })
  usedAt: Date | null;
}

@ObjectType()
export class RecoveryCodeList {
  @Field(() => [RecoveryCode])
  codes: RecoveryCode[];

  @Field()
  generatedAt: Date;
}
