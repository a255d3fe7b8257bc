import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import type { AuthenticatorModelView, MetadataBlobInfo } from './model-catalog';

@ObjectType({ description: 'An authenticator model the loaded Metadata Service blob lists.' })
export class AuthenticatorModel {
  @Field(() => ID)
  aaguid: string;

  @Field()
  name: string;

  @Field(() => [String], {
    description: 'FIDO certification levels from the Metadata Service, e.g. FIDO_CERTIFIED_L1.',
  })
  certifications: string[];

  @Field({
    description:
      'True when the Metadata Service reports a compromise or revocation; such a model never meets a phishing-resistant requirement.',
  })
  compromised: boolean;

  static of(model: AuthenticatorModelView): AuthenticatorModel {
    return Object.assign(new AuthenticatorModel(), model);
  }
}

@ObjectType()
export class AuthenticatorModelConnection extends Connection('AuthenticatorModel', AuthenticatorModel) {
  @Field(() => Int)
  totalCount: number;
}

@ObjectType({ description: 'What Metadata Service blob is loaded.' })
export class MetadataServiceStatus {
  @Field(() => Int, {
    nullable: true,
    description: "The loaded blob's serial number and next update date; null when none is loaded.",
  })
  blobNumber: number | null;

  @Field(() => Date, { nullable: true })
  nextUpdate: Date | null;

  @Field(() => Date, { nullable: true })
  loadedAt: Date | null;

  @Field(() => Int)
  entries: number;

  static of(blob: MetadataBlobInfo | null): MetadataServiceStatus {
    return Object.assign(new MetadataServiceStatus(), {
      blobNumber: blob?.blobNumber ?? null,
      nextUpdate: blob?.nextUpdate ?? null,
      loadedAt: blob?.loadedAt ?? null,
      entries: blob?.entries ?? 0,
    });
  }
}
