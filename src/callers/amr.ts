/**
 * What the authentication method references (RFC 8176) of a sign-in say about
 * its strength: the values our login assertion carries, read back by
 * organizationAccess (sessionAmr) and kept by trusted devices. Contract README,
 * "Enforcement"; docs/adr/0012-access-per-sign-in.md.
 */

/** A security key or passkey: the one phishing-resistant second factor. */
export const KEY_AMR = 'hwk';

/**
 * Multi-factor done at the identity provider (RFC 8176 "mfa"): meets an
 * any-factor requirement only where the organization accepts it, never a
 * phishing-resistant one (it says nothing of which factor, or whether it was phishable).
 */
export const IDENTITY_PROVIDER_MFA_AMR = 'mfa';

/** Our assertion's second factors: a session holding any of them passed one. */
export const SECOND_FACTOR_AMR: ReadonlySet<string> = new Set(['otp', 'sms', KEY_AMR, 'recovery', 'device']);

/**
 * How strong a sign-in was, as the assertion's `acr` names it (contract
 * "Authenticators"): `phrh` with a device-bound key, `phr` with any other key,
 * `mfa` with any other second factor.
 */
export type SignInStrength = 'mfa' | 'phr' | 'phrh';

const PHISHING_RESISTANT_STRENGTHS: ReadonlySet<string> = new Set(['phr', 'phrh']);

/** The strength of a sign-in: the factor's own word (`acr`) when it gave one, else what its amr says. */
export const strengthOf = (amr: readonly string[], acr?: SignInStrength): SignInStrength =>
  acr ?? (amr.includes(KEY_AMR) ? 'phr' : 'mfa');

/** The `acr` of a device start: the strength it was remembered with (anything unknown: `mfa`). */
export const deviceStartAcr = (rememberedWith: string): SignInStrength =>
  rememberedWith === 'phrh' || rememberedWith === 'phr' ? rememberedWith : 'mfa';

/**
 * A trusted device keeps the strength of the sign-in that remembered it: its
 * start says "hwk" only when that sign-in used a key. Anything else (a row from
 * before the strength was kept included) is a device alone.
 */
export const deviceStartAmr = (rememberedWith: string): string[] =>
  PHISHING_RESISTANT_STRENGTHS.has(rememberedWith) ? ['device', KEY_AMR] : ['device'];
