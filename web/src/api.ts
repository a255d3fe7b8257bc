import { Kind, type DocumentNode } from 'graphql';
import { cacheExchange, Client, fetchExchange, makeOperation, mapExchange, type CombinedError } from 'urql';

/** Every POST carries this header: the web server refuses POSTs without it (CSRF). */
const CSRF_HEADERS = { 'x-requested-by': 'twofactor-web' };

/** A refusal the pages can explain: the service's error code, its message and extensions. */
export interface Problem {
  code: string;
  message: string;
  extensions: Record<string, unknown>;
}

export interface PendingLogin {
  userId: string;
  methods: string[];
  phoneNumberMasked: string | null;
  webAuthnOptions: unknown;
  expiresAt: string;
}

export interface SessionUser {
  id: string;
  amr: string[];
  signedInAt: string;
}

export interface SessionInfo {
  user: SessionUser | null;
  pendingLogin: PendingLogin | null;
  development: boolean;
  trustedDevices: boolean;
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when the web server says the session has ended (the pages go back to sign-in). */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/**
 * Trusted documents: each operation goes out as its hash alone (`documentId`, from
 * GraphQL Code Generator's persisted documents), which urql's fetch sends in place
 * of the text; the web server looks it up in the list the pages were built with.
 */
const sendDocumentId = mapExchange({
  onOperation(operation) {
    const documentId = (operation.query as { __meta__?: { documentId?: string } }).__meta__?.documentId;
    if (!documentId) return operation;
    // No definitions and a documentId: urql's fetch sends `{ documentId, variables }` and no text.
    const query: DocumentNode & { documentId: string } = { kind: Kind.DOCUMENT, definitions: [], documentId };
    return makeOperation(operation.kind, { ...operation, query }, operation.context);
  },
});

/**
 * GraphQL through the web server: same origin, the session cookie, never a
 * token. The server adds the user's bearer token and forwards to the service.
 * One client (and cache) per signed-in user.
 */
export const createClient = () =>
  new Client({
    url: '/graphql',
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: { headers: CSRF_HEADERS, credentials: 'same-origin' },
    exchanges: [
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
            for (const listener of signedOutListeners) listener();
          }
        },
      }),
      cacheExchange,
      sendDocumentId,
      fetchExchange,
    ],
  });

/** The first problem of a urql error (network failures become SERVICE_UNAVAILABLE or NETWORK). */
export function problemOf(error: CombinedError | undefined | null): Problem | undefined {
  if (!error) return undefined;
  const first = error.graphQLErrors[0];
  if (first) {
    const extensions = (first.extensions ?? {}) as Record<string, unknown>;
    return { code: String(extensions.code ?? 'UNKNOWN'), message: first.message, extensions };
  }
  return { code: 'NETWORK', message: error.networkError?.message ?? error.message, extensions: {} };
}

/** A refusal carried as an exception: the web server's /auth answers, and a mutation's (dataOf). */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

/** A mutation's data, or its refusal thrown as a ProblemError (problemFromException reads it back). */
export function dataOf<T>(result: { data?: T; error?: CombinedError }): T {
  if (result.data) return result.data;
  throw new ProblemError(problemOf(result.error) ?? { code: 'UNKNOWN', message: 'No answer.', extensions: {} });
}

/** The web server's own endpoints (/auth/*): JSON in, `{ data }` or `{ errors }` out. */
export async function authRequest<T>(path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: body === undefined && path === '/auth/session' ? 'GET' : 'POST',
      credentials: 'same-origin',
      headers: path === '/auth/session' ? {} : { ...CSRF_HEADERS, 'content-type': 'application/json' },
      body: path === '/auth/session' ? undefined : JSON.stringify(body ?? {}),
    });
  } catch {
    throw new ProblemError({ code: 'NETWORK', message: 'The web server did not answer.', extensions: {} });
  }
  let json: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  try {
    json = await response.json();
  } catch {
    throw new ProblemError({ code: 'SERVICE_UNAVAILABLE', message: `HTTP ${response.status}`, extensions: {} });
  }
  const first = json.errors?.[0];
  if (first) {
    const extensions = first.extensions ?? {};
    throw new ProblemError({ code: String(extensions.code ?? 'UNKNOWN'), message: first.message, extensions });
  }
  return json.data as T;
}

export const problemFromException = (error: unknown): Problem =>
  error instanceof ProblemError
    ? error.problem
    : { code: 'UNKNOWN', message: error instanceof Error ? error.message : String(error), extensions: {} };
