import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../infra/logger';

/** The one GraphQL-shaped transport refusal, as sent by the server and written raw below. */
export const badRequestBody = (message: string) => ({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });

// RFC 3986 host (reg-name, IPv4 or IP literal) and an optional port.
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::\d{1,5})?$/;

/**
 * Why the request's Host (or the X-Forwarded-Host a trusted proxy set) is unusable,
 * or undefined. The GraphQL integration builds a URL from it and threw a TypeError
 * (a 503 and a stack trace) on `a b`, `[`, `%`, an empty Host or none. HTTP/1.1
 * requires a Host (RFC 9112); HTTP/1.0 may omit it, so health checkers that do
 * still reach the plain endpoints.
 */
export function hostProblem(request: FastifyRequest): string | undefined {
  const host = request.host;
  if (host === '') {
    if (request.raw.httpVersion === '1.0' && !request.url.startsWith('/graphql')) return undefined;
    return 'The request has no Host header.';
  }
  if (!HOST.test(host)) return 'The Host header is malformed.';
  try {
    // The very URL the integration builds (the protocol may come from X-Forwarded-Proto).
    new URL(request.url, `${request.protocol}://${request.hostname}/`);
  } catch {
    return 'The Host header is malformed.';
  }
  return undefined;
}

/**
 * Why the request's URL is unusable, or undefined: a query string whose
 * percent-encoding does not decode (`%zz`, a lone `%`, bytes that are no UTF-8).
 * Fastify's router refuses such a path itself (see `frameworkErrors` in
 * server.ts) but parses query strings leniently, so GraphQL saw mangled text.
 */
export function urlProblem(url: string): string | undefined {
  const query = url.indexOf('?');
  if (query === -1) return undefined;
  try {
    decodeURIComponent(url.slice(query + 1));
  } catch {
    return MALFORMED_URL;
  }
  return undefined;
}

export const MALFORMED_URL = 'The URL is malformed: a percent-encoding in it does not decode.';

/**
 * Node's own parser refusals (headers too large, not HTTP at all) come before any
 * request exists, so the answer is written to the socket as bytes; GraphQL-shaped
 * like every other transport refusal, and logged at info like them.
 */
export function answerClientError(logger: Logger) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const message =
      status === 431
        ? 'The request headers are too large.'
        : status === 408
          ? 'The request took too long to arrive.'
          : 'The request is not valid HTTP.';
    logger.info({ status, reason: error.code }, 'client error');
    // Never write into a response already under way on this connection (as Node itself does).
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify(badRequestBody(message));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
