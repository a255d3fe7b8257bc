/** RFC 8176 authentication method references, as people say them. */
const WORDS: Record<string, string> = {
  pwd: 'password',
  otp: 'authenticator app',
  sms: 'text message',
  recovery: 'recovery code',
  hwk: 'security key',
  user: 'user verification',
  device: 'remembered browser',
};

export function describeAmr(amr: string[]): string {
  return amr.map((value) => WORDS[value] ?? value).join(' and ');
}

export const METHOD_WORDS: Record<string, string> = {
  TOTP: 'Authenticator app',
  SMS: 'Text messages (SMS)',
  WEBAUTHN: 'Security keys and passkeys',
  RECOVERY_CODE: 'Recovery codes',
};
