import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import type { OrganizationView } from '../organizations/organization.types';

@ObjectType()
export class TwoFactorExemption {
  @Field(() => ID)
  userId: string;

  @Field({ description: 'Why the owner granted it (plain text, 1 to 500 characters).' })
  reason: string;

  @Field({ description: 'The user id (or service subject) that granted it.' })
  grantedBy: string;

  @Field(() => Date)
  grantedAt: Date;

  @Field(() => Date)
  endsAt: Date;
}

@ObjectType()
export class TwoFactorExemptionConnection extends Connection('TwoFactorExemption', TwoFactorExemption) {
  @Field(() => Int)
  totalCount: number;
}

@ObjectType()
export class TwoFactorRequirementPreview {
  @Field({ description: 'The requirement previewed: phishing-resistant or any factor.' })
  phishingResistant: boolean;

  @Field(() => Int)
  totalMembers: number;

  @Field(() => [ID], {
    description:
      'Owners without a factor that this requirement accepts; while any, it is refused with OWNERS_WITHOUT_TWO_FACTOR. At most 100 ids, in user id order.',
  })
  ownersBlocking: string[];

  @Field(() => Int)
  ownersBlockingCount: number;

  @Field(() => Int, {
    description:
      'Members, owners included, who would be refused (or in grace) once it applies: no accepted factor, not exempt.',
  })
  membersAffected: number;

  @Field(() => Int, { description: 'Members without an accepted factor who are exempt now.' })
  membersExempt: number;

  /** Whose preview it is, as the caller sees it, and the time it was read at (the affected page reads as of then). */
  organization: OrganizationView;
  at: Date;
}
