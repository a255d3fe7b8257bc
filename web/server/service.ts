import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { WEB_LIMITS } from './limits';

/** A GraphQL error as the service answers it (`extensions.code` is what to match on). */
export interface ServiceError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

export interface ServiceAnswer<T> {
  data?: T | null;
  errors?: ServiceError[];
}

/** Thrown when the service cannot be reached or answers something that is not GraphQL. */
export class ServiceUnavailable extends Error {}

/**
 * Calls the two-factor service: one operation, JSON, with a bearer token when
 * given, and the browser's address in X-Forwarded-For (the service trusts it
 * with TRUST_PROXY=1, so its per-IP limits count browsers, not this server).
 */
export class ServiceClient {
  constructor(private readonly url: string) {}

  async request<T, V>(
    document: TypedDocumentNode<T, V>,
    variables: V,
    options: { token?: string; clientIp?: string } = {},
  ): Promise<ServiceAnswer<T>> {
    const response = await this.post(JSON.stringify({ query: print(document), variables }), options);
    return (await response.json()) as ServiceAnswer<T>;
  }

  /** Sends a body on a browser's behalf (a trusted document and its variables); answers the service's status and body. */
  async forward(body: string, options: { token?: string; clientIp?: string }): Promise<Response> {
    return this.post(body, options);
  }

  private async post(body: string, { token, clientIp }: { token?: string; clientIp?: string }): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (clientIp) headers['x-forwarded-for'] = clientIp;
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(WEB_LIMITS.serviceTimeoutMs),
      });
    } catch (error) {
      throw new ServiceUnavailable(`the two-factor service did not answer: ${(error as Error).message}`);
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('application/json')) {
      await response.body?.cancel();
      throw new ServiceUnavailable(`the two-factor service answered HTTP ${response.status}`);
    }
    return response;
  }
}

/** The first error's code, or undefined. */
export const errorCode = (answer: ServiceAnswer<unknown>) => answer.errors?.[0]?.extensions?.code;
