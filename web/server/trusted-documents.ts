import manifest from '../src/gql/persisted-documents.json';
import { HttpError } from './http';

/**
 * The operations the pages were built with, and nothing else: GraphQL Code
 * Generator's persisted-documents manifest (hash -> document, made from
 * src/operations.ts at build time and bundled here). The pages send a
 * document's hash (`documentId`) and its variables; this gives the service's
 * request body, or refuses (400 BAD_REQUEST) what is not on the list, so a
 * browser, or a script holding its cookie, cannot send the service any other
 * document through this server.
 */
export class TrustedDocuments {
  private readonly documents: ReadonlyMap<string, string>;

  constructor(documents: Record<string, string> = manifest) {
    this.documents = new Map(Object.entries(documents));
  }

  get size(): number {
    return this.documents.size;
  }

  /** The body to forward for a browser's `{ documentId, variables }`. */
  bodyFor(request: Record<string, unknown>): string {
    const { documentId, variables } = request;
    if ('query' in request) {
      throw new HttpError(
        400,
        'BAD_REQUEST',
        'Only the operations of these pages are forwarded: send their documentId.',
      );
    }
    const document = typeof documentId === 'string' ? this.documents.get(documentId) : undefined;
    if (!document) {
      throw new HttpError(400, 'BAD_REQUEST', 'Unknown documentId: only the operations of these pages are forwarded.');
    }
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
      throw new HttpError(400, 'BAD_REQUEST', 'variables must be an object.');
    }
    return JSON.stringify({ query: document, variables: variables ?? undefined });
  }
}
