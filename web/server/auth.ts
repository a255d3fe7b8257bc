import type { Identity } from './identity';
import { OrganizationAccess, SendLoginSmsCode, StartLoginChallenge, VerifyLoginChallenge } from './operations';
import type { ServiceClient, ServiceError } from './service';
import type { PendingLogin, Session, SessionStore, UsedOnce } from './sessions';

/** A remembered browser's token, to keep in its own cookie until it expires. */
export interface DeviceToken {
  token: string;
  expiresAt: string;
}

/** What an /auth endpoint answers: data for the page, or the service's (or our own) errors. */
export type AuthResult =
  | { status: 200; data: unknown; session?: Session | null; device?: DeviceToken }
  | { status: number; errors: ServiceError[]; session?: Session | null };

const USER_ID = /^[\x21-\x7e]{1,128}$/;
const ORGANIZATION_ID = USER_ID;
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

const notConfirmed = (): AuthResult =>
  refusal(502, 'ASSERTION_REFUSED', 'The sign-in could not be confirmed. Start again with your user id and password.');

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
 * The name a remembered browser gets in the user's list ("Chrome on Linux"):
 * plain text from the User-Agent, never the header itself.
 */
export function deviceNameOf(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'A browser';
  const system = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return system ? `${browser} on ${system}` : browser;
}

/**
 * The web server as the login service (development): the password step, then
 * the challenge it opened with its own twofactor:login token, then the
 * assertion, checked as the service's README tells a login service to. The
 * challenge id, the assertion and the remembered browser's token never reach
 * the page's scripts.
 */
export class Auth {
  constructor(
    private readonly identity: Identity,
    private readonly service: ServiceClient,
    private readonly sessions: SessionStore,
    private readonly usedAssertions: UsedOnce,
  ) {}

  async password(
    session: Session | undefined,
    body: Record<string, unknown>,
    clientIp: string,
    deviceToken: string | undefined,
  ): Promise<AuthResult> {
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
      // A remembered browser's token: the service ignores it unless it is this user's, valid and allowed.
      { userId, deviceToken: deviceToken ?? null },
      { token: await this.identity.serviceToken(LOGIN_SERVICE, 'twofactor:login'), clientIp },
    );
    const challenge = answer.data?.startLoginChallenge;
    if (!challenge) return { status: 400, errors: answer.errors ?? [] };

    // A new session id at every sign-in step: an id planted before is worth nothing.
    const fresh = session ? this.sessions.rotate(session) : this.sessions.create();
    fresh.user = undefined;
    fresh.pendingLogin = undefined;
    if (challenge.assertion) {
      // A remembered browser: the challenge came back spent, with its assertion (amr ["device"]).
      const amr = await this.checkAssertion(challenge.assertion, challenge.id, userId);
      if (!amr) return notConfirmed();
      fresh.user = { id: userId, amr: ['pwd', ...amr], signedInAt: new Date() };
      return { status: 200, data: { status: 'SIGNED_IN', user: publicUser(fresh) }, session: fresh };
    }
    if (challenge.methods.length === 0) {
      // No second factor is set up: the password alone signs in (the service's answer says so).
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

  async verify(
    session: Session | undefined,
    body: Record<string, unknown>,
    clientIp: string,
    userAgent: string | undefined,
  ): Promise<AuthResult> {
    const pending = session?.pendingLogin;
    if (!session || !pending || pending.expiresAt < Date.now()) return expired();
    const code = typeof body.code === 'string' ? body.code : undefined;
    const webAuthn = typeof body.webAuthn === 'object' && body.webAuthn !== null ? body.webAuthn : undefined;
    if (!code === !webAuthn) {
      return refusal(400, 'BAD_USER_INPUT', 'Enter a code, or use your security key.');
    }
    const rememberDevice = body.rememberDevice === true;
    const answer = await this.service.request(
      VerifyLoginChallenge,
      {
        challengeId: pending.challengeId,
        code,
        webAuthn,
        rememberDevice,
        deviceName: rememberDevice ? deviceNameOf(userAgent) : undefined,
      },
      { clientIp },
    );
    const verification = answer.data?.verifyLoginChallenge;
    if (!verification) {
      if (answer.errors?.[0]?.extensions?.code === 'CHALLENGE_NOT_FOUND') session.pendingLogin = undefined;
      return { status: 400, errors: answer.errors ?? [] };
    }

    session.pendingLogin = undefined;
    const amr = await this.checkAssertion(verification.assertion, pending.challengeId, pending.userId);
    if (!amr) return notConfirmed();
    const signedIn = this.sessions.rotate(session);
    signedIn.user = { id: pending.userId, amr: ['pwd', ...amr], signedInAt: new Date() };
    const device =
      verification.deviceToken && verification.deviceTokenExpiresAt
        ? { token: verification.deviceToken, expiresAt: verification.deviceTokenExpiresAt }
        : undefined;
    return {
      status: 200,
      data: {
        status: 'SIGNED_IN',
        user: publicUser(signedIn),
        recoveryCodesRemaining: verification.recoveryCodesRemaining,
        method: verification.method,
        // Asked to remember this browser: whether the service agreed (an organization may forbid it), and until when.
        rememberedUntil: device?.expiresAt ?? null,
      },
      session: signedIn,
      device,
    };
  }

  /**
   * What the login service asks before letting this session into an organization:
   * organizationAccess with the session's amr (`pwd` plus the assertion's), so a
   * phishing-resistant requirement is met by a sign-in with a key, not by owning one.
   */
  async access(session: Session | undefined, body: Record<string, unknown>, clientIp: string): Promise<AuthResult> {
    const user = session?.user;
    if (!user) return refusal(401, 'UNAUTHENTICATED', 'You are signed out. Sign in again.');
    const organizationId = typeof body.organizationId === 'string' ? body.organizationId : '';
    if (!ORGANIZATION_ID.test(organizationId)) {
      return refusal(400, 'BAD_USER_INPUT', 'organizationId: 1 to 128 letters, digits or symbols, no spaces.');
    }
    const answer = await this.service.request(
      OrganizationAccess,
      { organizationId, userId: user.id, sessionAmr: user.amr },
      { token: await this.identity.serviceToken(LOGIN_SERVICE, 'twofactor:read'), clientIp },
    );
    const access = answer.data?.organizationAccess;
    if (!access) return { status: 400, errors: answer.errors ?? [] };
    return { status: 200, data: access };
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

  /**
   * The login service's checks of an assertion: signature (HS256 only), issuer,
   * audience, expiry; `jti` the challenge this server opened for this login and
   * `sub` its user; each `jti` once. Its `amr`, or undefined when refused.
   */
  private async checkAssertion(assertion: string, challengeId: string, userId: string): Promise<string[] | undefined> {
    try {
      const payload = await this.identity.verifyAssertion(assertion);
      if (payload.jti !== challengeId || payload.sub !== userId) return undefined;
      if (!this.usedAssertions.mark(payload.jti, (payload.exp ?? 0) * 1000)) return undefined;
      return Array.isArray(payload.amr)
        ? payload.amr.filter((value): value is string => typeof value === 'string')
        : [];
    } catch {
      return undefined;
    }
  }
}
