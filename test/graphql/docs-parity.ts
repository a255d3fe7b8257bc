import type { PairedApps } from './paired-apps';

/**
 * One example of docs/api.md as the docs runner reads it: the request (in the
 * order the page runs them) and, if the runner has it, the answer the page shows.
 */
export interface DocExample {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The caller's token; none for the login pages' operations. */
  token?: string;
  headers?: Record<string, string>;
  /** The page's answer: the docs runner's to check; here both executors must only agree. */
  expected?: unknown;
}

/**
 * Sends the examples, in order, to both instances of `pair` and returns where
 * their answers differ (empty: the same bytes for every example). The docs
 * runner may instead run itself on `pair` (a TestApp): each of its requests is
 * then compared, and `pair.differences` holds what differed.
 */
export async function answerExamplesAlike(pair: PairedApps, examples: DocExample[]): Promise<string[]> {
  const already = pair.differences.length;
  for (const example of examples) {
    await pair.send(
      {
        headers: {
          'content-type': 'application/json',
          ...(example.token ? { authorization: `Bearer ${example.token}` } : {}),
          ...example.headers,
        },
        body: JSON.stringify({ query: example.query, variables: example.variables }),
      },
      `docs/api.md: ${example.name}`,
    );
  }
  return pair.differences.slice(already);
}
