import { registerEnumType } from 'type-graphql';

/**
 * The ways a user answers a second-factor challenge: the domain's one name for
 * it, and the GraphQL enum of the same name.
 */
export enum TwoFactorMethod {
  TOTP = 'TOTP',
  SMS = 'SMS',
  WEBAUTHN = 'WEBAUTHN',
  RECOVERY_CODE = 'RECOVERY_CODE',
}

registerEnumType(TwoFactorMethod, { name: 'TwoFactorMethod' });

/** A factor the user sets up, confirms and removes; recovery codes come with two-factor itself. */
export type EnrolledMethod = Exclude<TwoFactorMethod, TwoFactorMethod.RECOVERY_CODE>;
