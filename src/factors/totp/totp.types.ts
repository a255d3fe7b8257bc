import { Field, ObjectType } from 'type-graphql';

@ObjectType()
export class TotpSetup {
  @Field({ description: 'Base32 (RFC 4648, no padding), 160 bits.' })
  secret: string;

  @Field({ description: 'otpauth://totp/... with issuer, SHA1, 6 digits, period 30.' })
  otpauthUri: string;

  @Field({ description: 'The otpauthUri as a QR code, an SVG document.' })
  qrCodeSvg: string;

  @Field({ description: 'The setup must be confirmed before this, or started again.' })
  expiresAt: Date;
}
