/**
 * The ways a user answers a second-factor challenge: the domain's one name for
 * it. The GraphQL enum of the same name is registered from it in
 * factors/two-factor.types.ts.
 */
export enum TwoFactorMethod {
  TOTP = 'TOTP',
  SMS = 'SMS',
  WEBAUTHN = 'WEBAUTHN',
  RECOVERY_CODE = 'RECOVERY_CODE',
}

/** A factor the user sets up, confirms and removes; recovery codes come with two-factor itself. */
export type EnrolledMethod = Exclude<TwoFactorMethod, TwoFactorMethod.RECOVERY_CODE>;
