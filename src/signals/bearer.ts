import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Caller, hasScope, type Scope } from '../callers/caller';
import type { TokenVerifier } from '../callers/token-verifier';
import { AppError } from '../errors';

/**
 * The caller of a plain route of the signals (the OCSF feed, Shared Signals): a
 * bearer token holding `scope`. Otherwise the refusal is sent (401 without a
 * valid token, 403 without the scope, RFC 6750's WWW-Authenticate on both) and
 * null returned.
 */
export async function bearerCaller(
  tokens: TokenVerifier,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: Scope,
): Promise<Caller | null> {
  let caller;
  try {
    caller = await tokens.verifyHeader(request.headers.authorization);
  } catch (error) {
    if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
      await refuse(reply, 401, error, scope);
      return null;
    }
    throw error;
  }
  if (!caller) {
    await refuse(reply, 401, new AppError('UNAUTHENTICATED', 'A bearer token is required.'), scope);
    return null;
  }
  if (!hasScope(caller, scope)) {
    await refuse(reply, 403, new AppError('FORBIDDEN', `This needs the ${scope} scope.`), scope);
    return null;
  }
  return caller;
}

/** An error as the plain routes answer it: the status, and the GraphQL error shape. */
export function refuse(reply: FastifyReply, status: number, error: AppError, scope?: Scope) {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="twofactor"');
  if (status === 403 && scope) {
    reply.header('www-authenticate', `Bearer realm="twofactor", error="insufficient_scope", scope="${scope}"`);
  }
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ errors: [{ message: error.message, extensions: { code: error.code, ...error.extensions } }] });
}
