import type { TestApp } from './test-app';

export const START_WITH_DEVICE =
  'mutation($u: ID!, $d: String) { startLoginChallenge(userId: $u, deviceToken: $d) { id userId methods phoneNumberMasked expiresAt assertion } }';
export const VERIFY_REMEMBERING =
  'mutation($id: ID!, $c: String!, $r: Boolean, $n: String) { verifyLoginChallenge(challengeId: $id, code: $c, rememberDevice: $r, deviceName: $n) { userId method assertion deviceToken deviceTokenExpiresAt } }';

export interface StartedChallenge {
  id: string;
  userId: string;
  methods: string[];
  phoneNumberMasked: string | null;
  expiresAt: string;
  assertion: string | null;
}

/** startLoginChallenge as the login service calls it, with the device token the browser sent (if any). */
export async function startLogin(
  t: TestApp,
  loginService: string,
  userId: string,
  deviceToken?: string | null,
): Promise<StartedChallenge> {
  const result = await t.gql(START_WITH_DEVICE, { u: userId, d: deviceToken ?? null }, loginService);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.startLoginChallenge;
}

/** A login answered with `code` and "remember this browser"; returns the device token (null when refused). */
export async function loginRemembering(
  t: TestApp,
  loginService: string,
  userId: string,
  code: string,
  deviceName: string | null = 'Firefox on Linux',
): Promise<{ deviceToken: string | null; deviceTokenExpiresAt: string | null; assertion: string }> {
  const challenge = await startLogin(t, loginService, userId);
  const result = await t.gql(VERIFY_REMEMBERING, { id: challenge.id, c: code, r: true, n: deviceName });
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data.verifyLoginChallenge;
}
