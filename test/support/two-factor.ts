import { randomInt } from 'node:crypto';
import type { FakeSns } from './fake-sns';
import type { TestApp } from './test-app';
import { totpCodeAt } from './totp';

export interface EnrolledUser {
  userId: string;
  token: string;
  secret: string;
  recoveryCodes: string[];
}

/** The code an authenticator shows at the app's current (test) time, `offsetSteps` away. */
export function currentTotp(t: TestApp, secret: string, offsetSteps = 0): string {
  return totpCodeAt(secret, t.clock.now(), offsetSteps);
}

/** Moves the app's clock to the next TOTP step, so a fresh code is not a replay. */
export function nextStep(t: TestApp): void {
  t.clock.advance(30_000);
}

/** Sets up and confirms TOTP through the API; returns the secret and the recovery codes. */
export async function enrollTotp(t: TestApp, userId: string): Promise<EnrolledUser> {
  const token = await t.token(userId, [], { authTime: t.clock.now() });
  const start = await t.gql('mutation { startTotpSetup { secret } }', {}, token);
  if (start.errors) throw new Error(JSON.stringify(start.errors));
  const secret = start.data.startTotpSetup.secret;
  const confirm = await t.gql(
    'mutation($code: String!) { confirmTotpSetup(code: $code) { recoveryCodes status { enabled } } }',
    { code: currentTotp(t, secret) },
    token,
  );
  if (confirm.errors) throw new Error(JSON.stringify(confirm.errors));
  nextStep(t);
  return { userId, token, secret, recoveryCodes: confirm.data.confirmTotpSetup.recoveryCodes };
}

/** Sets up and confirms an SMS number through the API, reading the code from the fake SNS. */
export async function enrollSms(t: TestApp, sns: FakeSns, userId: string, phone: string) {
  const token = await t.token(userId, [], { authTime: t.clock.now() });
  const start = await t.gql(
    'mutation($p: String!) { startSmsSetup(phoneNumber: $p) { phoneNumberMasked } }',
    { p: phone },
    token,
  );
  if (start.errors) throw new Error(JSON.stringify(start.errors));
  const confirm = await t.gql(
    'mutation($c: String!) { confirmSmsSetup(code: $c) { recoveryCodes } }',
    { c: sns.lastCodeTo(phone) },
    token,
  );
  if (confirm.errors) throw new Error(JSON.stringify(confirm.errors));
  return { userId, token, phone, recoveryCodes: confirm.data.confirmSmsSetup.recoveryCodes as string[] };
}

/** A mobile number of the test's own: SMS limits count per number, and Redis outlives a run. */
export const uniqueMobileNumber = () => `+1415555${randomInt(1000, 10_000)}`;
