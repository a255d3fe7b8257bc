import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Auth, publicPendingLogin, publicUser, type AuthResult } from './auth';
import type { WebConfig } from './config';
import {
  csrfRefusal,
  HttpError,
  parseCookies,
  readJsonObject,
  SECURITY_HEADERS,
  sendError,
  sendJson,
  serializeCookie,
} from './http';
import type { Identity } from './identity';
import { WEB_LIMITS } from './limits';
import { ServiceUnavailable, type ServiceClient } from './service';
import { UsedOnce, type Session, type SessionStore } from './sessions';
import { StaticFiles } from './static';
import { TrustedDocuments } from './trusted-documents';

export interface AppOptions {
  config: WebConfig;
  identity: Identity;
  service: ServiceClient;
  sessions: SessionStore;
  log: (line: string) => void;
}

/** The web server: the pages, the session cookie, /auth/* (the login service's part) and /graphql (forwarded). */
export function createRequestHandler({ config, identity, service, sessions, log }: AppOptions): RequestListener {
  const auth = new Auth(identity, service, sessions, new UsedOnce());
  const files = new StaticFiles(config.staticDir);
  const trusted = new TrustedDocuments();
  const origin = config.publicOrigin.origin;
  // __Host-: only over https, for this host alone, path /, set by this host.
  const cookieName = config.secureCookies ? '__Host-tf_session' : 'tf_session';
  // A remembered browser's token ("Remember this browser"): its own cookie, kept across sign-outs until it expires.
  const deviceCookieName = config.secureCookies ? '__Host-tf_device' : 'tf_device';

  const setSession = (session: Session | null): string =>
    serializeCookie(cookieName, session?.id ?? '', {
      secure: config.secureCookies,
      maxAgeSeconds: session ? sessions.maxAgeSeconds : 0,
    });

  const answer = (response: ServerResponse, result: AuthResult) => {
    const cookies: string[] = [];
    if (result.session !== undefined) cookies.push(setSession(result.session));
    if ('data' in result && result.device) {
      cookies.push(
        serializeCookie(deviceCookieName, result.device.token, {
          secure: config.secureCookies,
          sameSite: 'Strict',
          maxAgeSeconds: (Date.parse(result.device.expiresAt) - Date.now()) / 1000,
        }),
      );
    }
    const headers: Record<string, string[]> = cookies.length > 0 ? { 'set-cookie': cookies } : {};
    if ('data' in result) sendJson(response, 200, { data: result.data }, headers);
    else sendJson(response, result.status, { errors: result.errors }, headers);
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    const url = new URL(request.url ?? '/', origin);
    const method = request.method ?? 'GET';
    const clientIp = request.socket.remoteAddress ?? '';

    if (url.pathname === '/healthz') return sendJson(response, 200, { ok: true });

    // One host: WebAuthn and the cookie belong to the public origin (localhost, not 127.0.0.1).
    if (request.headers.host !== config.publicOrigin.host) {
      if ((method === 'GET' || method === 'HEAD') && !config.production) {
        response.writeHead(308, { location: `${origin}${url.pathname}${url.search}` });
        return void response.end();
      }
      return sendError(response, 421, 'BAD_REQUEST', `Use ${origin}.`);
    }

    const cookies = parseCookies(request.headers.cookie);
    const session = sessions.get(cookies.get(cookieName));
    const deviceToken = cookies.get(deviceCookieName);

    if (url.pathname === '/auth/session' && method === 'GET') {
      return sendJson(response, 200, {
        data: {
          user: publicUser(session),
          pendingLogin: publicPendingLogin(session?.pendingLogin),
          development: !config.production,
          // "Remember this browser" (the service's trusted devices; TRUSTED_DEVICE_DAYS=0 or an
          // organization may still refuse, and the sign-in answer says so).
          trustedDevices: true,
        },
      });
    }

    if (url.pathname.startsWith('/auth/') || url.pathname === '/graphql') {
      if (method !== 'POST') return sendError(response, 405, 'BAD_REQUEST', 'Use POST.', {}, { allow: 'POST' });
      const refusal = csrfRefusal(request, origin);
      if (refusal) return sendError(response, 403, 'FORBIDDEN', refusal);

      switch (url.pathname) {
        case '/auth/password':
          return answer(
            response,
            await auth.password(
              session,
              await readJsonObject(request, WEB_LIMITS.authBodyBytes),
              clientIp,
              deviceToken && /^[\w-]{1,256}$/.test(deviceToken) ? deviceToken : undefined,
            ),
          );
        case '/auth/sms':
          return answer(response, await auth.sendSms(session, clientIp));
        case '/auth/verify':
          return answer(
            response,
            await auth.verify(
              session,
              await readJsonObject(request, WEB_LIMITS.bodyBytes),
              clientIp,
              request.headers['user-agent'],
            ),
          );
        case '/auth/access':
          return answer(response, await auth.access(session, await readJsonObject(request, 10_000), clientIp));
        case '/auth/cancel':
          return answer(response, auth.cancel(session));
        case '/auth/logout':
          if (session) sessions.destroy(session);
          return answer(response, { status: 200, data: { status: 'SIGNED_OUT' }, session: null });
        case '/graphql': {
          const token = session && (await auth.tokenFor(session));
          if (!session || !token) {
            return sendError(response, 401, 'UNAUTHENTICATED', 'You are signed out. Sign in again.');
          }
          // Only the pages' own operations (trusted documents): anything else is refused, nothing forwarded.
          const body = trusted.bodyFor(await readJsonObject(request, WEB_LIMITS.bodyBytes));
          const forwarded = await service.forward(body, { token, clientIp });
          const text = await forwarded.text();
          response.writeHead(forwarded.status, {
            'content-type': 'application/json; charset=utf-8',
            'cache-control': 'no-store',
          });
          return void response.end(text);
        }
        default:
          return sendError(response, 404, 'NOT_FOUND', 'No such endpoint.');
      }
    }

    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(response, 405, 'BAD_REQUEST', 'Method not allowed.', {}, { allow: 'GET, HEAD' });
    }
    if (!(await files.serve(url.pathname, method === 'HEAD', response, {}))) {
      return sendError(response, 404, 'NOT_FOUND', 'Not found.');
    }
  }

  return (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      if (error instanceof HttpError) return sendError(response, error.status, error.code, error.message);
      if (error instanceof ServiceUnavailable) {
        log(`service unavailable: ${error.message}`);
        return sendError(
          response,
          503,
          'SERVICE_UNAVAILABLE',
          'The two-factor service cannot be reached right now. Try again in a minute.',
        );
      }
      log(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
      sendError(response, 500, 'INTERNAL_SERVER_ERROR', 'Something went wrong on our side. Try again.');
    });
  };
}
