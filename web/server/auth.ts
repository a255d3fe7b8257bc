import type { Identity } from './identity';
import { SendLoginSmsCode, StartLoginChallenge, VerifyLoginChallenge } from './operations';
import type { ServiceClient, ServiceError } from './service';
import type { PendingLogin, Session, SessionStore, UsedOnce } from './sessions';

/** What an /auth endpoint answers: data for the page, or the service's (or our own) errors. */
export type AuthResult =
  | { status: 200; data: unknown; session?: Session | null }
  | { status: number; errors: ServiceError[]; session?: Session | null };

const USER_ID = /^[\x21-\x7e]{1,128}$/;
const LOGIN_SERVICE = 'web-login';

const refusal = (status: number, code: string, message: string, session?: Session | null): AuthResult => ({
  status,
  errors: [{ message, extensions: { code } }],
  session,
});

const expired = (): AuthResult =>
  refusal(
    400,
    'CHALLENGE_NOT_FOUND',
    'This sign-in has expired or was already used. Start again with your user id and password.',
  );

/** What the pages may know of a login in progress: never the challenge id. */
export function publicPendingLogin(pending: PendingLogin | undefined) {
  if (!pending || pending.expiresAt < Date.now()) return null;
  return {
    userId: pending.userId,
    methods: pending.methods,
    phoneNumberMasked: pending.phoneNumberMasked,
    webAuthnOptions: pending.webAuthnOptions,
    expiresAt: new Date(pending.expiresAt).toISOString(),
  };
}

export function publicUser(session: Session | undefined) {
  const user = session?.user;
  return user ? { id: user.id, amr: user.amr, signedInAt: user.signedInAt.toISOString() } : null;
}

/**
 * The web server as the login service (development): the password step, then
 * the challenge it opened with its own twofactor:login token, then the
 * assertion, checked as the service's README tells a login service to. The
 * challenge id and the assertion never reach the browser.
 */
export class Auth {
  constructor(
    private readonly identity: Identity,
    private readonly service: ServiceClient,
    private readonly sessions: SessionStore,
    private readonly usedAssertions: UsedOnce,
  ) {}

  async password(session: Session | undefined, body: Record<string, unknown>, clientIp: string): Promise<AuthResult> {
    const userId = typeof body.userId === 'string' ? body.userId.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    if (!USER_ID.test(userId)) {
      return refusal(400, 'BAD_USER_INPUT', 'Enter your user id: 1 to 128 letters, digits or symbols, no spaces.');
    }
    if (!this.identity.checkPassword(userId, password)) {
      return refusal(401, 'INVALID_PASSWORD', 'The user id or password is wrong. (Development: the password is demo.)');
    }
    const answer = await this.service.request(
      StartLoginChallenge,
      { userId },
      { token: await this.identity.serviceToken(LOGIN_SERVICE, 'twofactor:login'), clientIp },
    );
    const challenge = answer.data?.startLoginChallenge;
    if (!challenge) return { status: 400, errors: answer.errors ?? [] };

    // A new session id at every sign-in step: an id planted before is worth nothing.
    const fresh = session ? this.sessions.rotate(session) : this.sessions.create();
    fresh.user = undefined;
    if (challenge.methods.length === 0) {
      // No second factor is set up: the password alone signs in (the service's answer says so).
      fresh.pendingLogin = undefined;
      fresh.user = { id: userId, amr: ['pwd'], signedInAt: new Date() };
      return { status: 200, data: { status: 'SIGNED_IN', user: publicUser(fresh) }, session: fresh };
    }
    fresh.pendingLogin = {
      userId,
      challengeId: challenge.id,
      expiresAt: Date.parse(challenge.expiresAt),
      methods: challenge.methods,
      phoneNumberMasked: challenge.phoneNumberMasked ?? null,
      webAuthnOptions: challenge.webAuthnOptions ?? null,
    };
    return {
      status: 200,
      data: { status: 'TWO_FACTOR', pendingLogin: publicPendingLogin(fresh.pendingLogin) },
      session: fresh,
    };
  }

  async sendSms(session: Session | undefined, clientIp: string): Promise<AuthResult> {
    const pending = session?.pendingLogin;
    if (!session || !pending || pending.expiresAt < Date.now()) return expired();
    const answer = await this.service.request(SendLoginSmsCode, { challengeId: pending.challengeId }, { clientIp });
    if (!answer.data?.sendLoginSmsCode) return { status: 400, errors: answer.errors ?? [] };
    return { status: 200, data: answer.data.sendLoginSmsCode };
  }

  async verify(session: Session | undefined, body: Record<string, unknown>, clientIp: string): Promise<AuthResult> {
    const pending = session?.pendingLogin;
    if (!session || !pending || pending.expiresAt < Date.now()) return expired();
    const code = typeof body.code === 'string' ? body.code : undefined;
    const webAuthn = typeof body.webAuthn === 'object' && body.webAuthn !== null ? body.webAuthn : undefined;
    if (!code === !webAuthn) {
      return refusal(400, 'BAD_USER_INPUT', 'Enter a code, or use your security key.');
    }
    const answer = await this.service.request(
      VerifyLoginChallenge,
      { challengeId: pending.challengeId, code, webAuthn },
      { clientIp },
    );
    const verification = answer.data?.verifyLoginChallenge;
    if (!verification) {
      if (answer.errors?.[0]?.extensions?.code === 'CHALLENGE_NOT_FOUND') session.pendingLogin = undefined;
      return { status: 400, errors: answer.errors ?? [] };
    }

    // The login service's checks: signature (HS256 only), issuer, audience, expiry;
    // the challenge this server opened for this user; each assertion once.
    session.pendingLogin = undefined;
    let amr: string[];
    try {
      const payload = await this.identity.verifyAssertion(verification.assertion);
      if (payload.jti !== pending.challengeId || payload.sub !== pending.userId) throw new Error('not this login');
      if (!this.usedAssertions.mark(payload.jti, (payload.exp ?? 0) * 1000)) throw new Error('already used');
      amr = Array.isArray(payload.amr) ? payload.amr.filter((value): value is string => typeof value === 'string') : [];
    } catch {
      return refusal(
        502,
        'ASSERTION_REFUSED',
        'The sign-in could not be confirmed. Start again with your user id and password.',
      );
    }
    const signedIn = this.sessions.rotate(session);
    signedIn.user = { id: pending.userId, amr: ['pwd', ...amr], signedInAt: new Date() };
    return {
      status: 200,
      data: {
        status: 'SIGNED_IN',
        user: publicUser(signedIn),
        recoveryCodesRemaining: verification.recoveryCodesRemaining,
        method: verification.method,
      },
      session: signedIn,
    };
  }

  cancel(session: Session | undefined): AuthResult {
    if (session) session.pendingLogin = undefined;
    return { status: 200, data: { status: 'SIGNED_OUT' } };
  }

  /** Tokens for the signed-in user: minted per session, renewed a minute before they expire. */
  async tokenFor(session: Session): Promise<string | undefined> {
    const user = session.user;
    if (!user) return undefined;
    if (!user.token || user.token.expiresAt - Date.now() < 60_000) {
      const { token, expiresAt } = await this.identity.userToken(user.id, user.signedInAt);
      user.token = { value: token, expiresAt };
    }
    return user.token.value;
  }
}
