import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import type { WebAuthnCredentialRecord } from './webauthn-credential.entity';

/** The JSON shapes of WebAuthn Level 3 (options for the browser, its responses). */
export const JSONScalar = GraphQLJSON;

@ObjectType()
export class WebAuthnCredential {
  @Field(() => ID, { description: 'The credential id, base64url.' })
  id: string;

  @Field({ description: 'Given by the user (1 to 64 characters of plain text); by default "Security key N".' })
  name: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt: Date | null;

  @Field({ description: 'True for a passkey that may be synced between devices (backup eligible).' })
  synced: boolean;

  @Field(() => [String], {
    description: 'The transports the authenticator reported (usb, nfc, ble, internal, hybrid).',
  })
  transports: string[];

  @Field(() => ID, {
    description: "The authenticator model's AAGUID (a UUID; all zeros when the authenticator gave none).",
  })
  aaguid: string;

  @Field(() => String, {
    nullable: true,
    description: "The model's name from the Metadata Service, when it lists the AAGUID.",
  })
  authenticatorName: string | null;

  @Field({
    description:
      'True when registration carried an attestation that verified against a root the Metadata Service gives for that AAGUID; false for attestation "none", self attestation, or a chain that did not verify.',
  })
  attested: boolean;

  @Field({ description: 'True when the key cannot be synced to other devices (backup eligible flag unset).' })
  deviceBound: boolean;

  @Field({
    description:
      'True when it meets the authenticator policy of every organization of the user that requires a phishing-resistant factor (with none: when the Metadata Service does not report its model compromised).',
  })
  acceptedByOrganizations: boolean;

  static of(
    record: WebAuthnCredentialRecord,
    judged: { authenticatorName?: string | null; accepted?: boolean } = {},
  ): WebAuthnCredential {
    return Object.assign(new WebAuthnCredential(), {
      id: record.id,
      name: record.name,
      createdAt: record.createdAt,
      lastUsedAt: record.lastUsedAt,
      synced: record.backupEligible,
      transports: record.transports ? record.transports.split(',') : [],
      aaguid: record.aaguid,
      attested: record.attested,
      deviceBound: record.deviceBound,
      authenticatorName: judged.authenticatorName ?? null,
      acceptedByOrganizations: judged.accepted ?? false,
    });
  }
}

@ObjectType()
export class WebAuthnRegistration {
  @Field(() => JSONScalar, {
    description: 'PublicKeyCredentialCreationOptionsJSON for navigator.credentials.create().',
  })
  options: unknown;

  @Field({ description: 'The registration must be confirmed before this, or started again.' })
  expiresAt: Date;
}

@ObjectType()
export class WebAuthnChallenge {
  @Field(() => JSONScalar, { description: 'PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get().' })
  options: unknown;

  @Field()
  expiresAt: Date;
}
