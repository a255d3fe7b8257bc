import type { IncomingMessage, ServerResponse } from 'node:http';

/** Every answer of this server: GraphQL-shaped, so the pages read one kind of error. */
export interface ErrorBody {
  errors: { message: string; extensions: { code: string; [key: string]: unknown } }[];
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(text);
}

export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const body: ErrorBody = { errors: [{ message, extensions: { code, ...extensions } }] };
  sendJson(response, status, body, headers);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The body as text, refused past `limit` bytes (413). */
export async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, 'BAD_REQUEST', 'The request body is too large.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'BAD_REQUEST', 'The request body is too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJsonObject(request: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const text = await readBody(request, limit);
  let value: unknown;
  try {
    value = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(index + 1).trim());
  }
  return cookies;
}

export interface CookieOptions {
  secure: boolean;
  maxAgeSeconds: number;
  sameSite?: 'Lax' | 'Strict';
}

/** httpOnly, Path=/, SameSite=Lax (or Strict), Secure outside localhost (https); Max-Age 0 deletes it. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  return [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`,
    'HttpOnly',
    `SameSite=${options.sameSite ?? 'Lax'}`,
    ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Headers on every answer: a strict content security policy, no framing, no referrer. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // The authenticator app's QR code is shown as an image from a data: URL, never as markup.
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy':
    'publickey-credentials-create=(self), publickey-credentials-get=(self), camera=(), microphone=()',
};

/** The header every POST from the pages carries; a cross-site form cannot set it, and cross-site fetch needs a preflight this server never grants. */
export const CSRF_HEADER = 'x-requested-by';
export const CSRF_VALUE = 'twofactor-web';

/**
 * CSRF: a POST must come from our own pages: the custom header, JSON, and
 * (when the browser says) our own origin and a same-origin fetch.
 */
export function csrfRefusal(request: IncomingMessage, origin: string): string | undefined {
  if (request.headers[CSRF_HEADER] !== CSRF_VALUE) return `Requests must carry the ${CSRF_HEADER} header.`;
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) return 'Send JSON (content-type: application/json).';
  const requestOrigin = request.headers.origin;
  if (requestOrigin !== undefined && requestOrigin !== origin) return 'Cross-origin requests are refused.';
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return 'Cross-site requests are refused.';
  return undefined;
}
