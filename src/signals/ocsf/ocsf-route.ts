import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../callers/token-verifier';
import { AppError, badInput } from '../../errors';
import { LIMITS } from '../../limits';
import { bearerCaller, refuse } from '../bearer';
import type { OcsfFeed } from './ocsf-feed';

export const OCSF_PATH = '/audit/ocsf';
const READ_SCOPE = 'twofactor:read' as const;
/** A limit as a query string gives it: digits only (no sign, exponent, space or fraction). */
const LIMIT = /^[1-9][0-9]{0,3}$/;

/**
 * GET /audit/ocsf?after=<cursor>&limit=<1..1000>: the audit log as OCSF 1.7.0
 * NDJSON for SIEMs that pull (contract: README.md, "Security signals"). A bearer
 * token with twofactor:read; 401 without a valid token, 403 without the scope
 * (RFC 6750's WWW-Authenticate on both), 400 for a bad limit or cursor. The
 * next page is a relative Link (RFC 8288), so no Host header ends up in it.
 */
export function registerOcsfRoute(fastify: FastifyInstance, tokens: TokenVerifier, feed: OcsfFeed): void {
  fastify.get(OCSF_PATH, async (request, reply) => {
    const caller = await bearerCaller(tokens, request, reply, READ_SCOPE);
    if (!caller) return reply;

    const query = request.query as Record<string, unknown>;
    let page;
    try {
      const limit = limitOf(query.limit);
      const after = query.after === undefined ? undefined : single(query.after, 'after');
      page = { limit, ...(await feed.page(after, limit)) };
    } catch (error) {
      if (error instanceof AppError && error.code === 'BAD_USER_INPUT') return refuse(reply, 400, error);
      throw error;
    }
    reply
      .type('application/x-ndjson; charset=utf-8')
      .header('link', `<${OCSF_PATH}?after=${page.next}&limit=${page.limit}>; rel="next"`);
    return page.records.map((record) => `${JSON.stringify(record)}\n`).join('');
  });
}

function limitOf(given: unknown): number {
  if (given === undefined) return LIMITS.ocsfDefaultPageSize;
  const text = single(given, 'limit');
  const limit = LIMIT.test(text) ? Number(text) : NaN;
  if (!(limit <= LIMITS.ocsfMaxPageSize)) {
    throw badInput(`limit must be from 1 to ${LIMITS.ocsfMaxPageSize}.`, 'limit');
  }
  return limit;
}

/** A query parameter given once: twice (an array) is refused, as a guess at which one is meant would be. */
function single(value: unknown, name: string): string {
  if (typeof value !== 'string') throw badInput(`Give ${name} once.`, name);
  return value;
}
