import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { TestApp, TestAppOptions } from '../../support/test-app';

export const SSF_ISSUER = 'https://ssf.twofactor.test';
export const AUTH_ISSUER = 'https://idp.twofactor.test';
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';
export const CREDENTIAL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/credential-change';
export const ASSURANCE_LEVEL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change';
export const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const CREDENTIAL_CHANGE_REQUIRED =
  'https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required';
export const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const ALL_EVENTS = [CREDENTIAL_CHANGE, ASSURANCE_LEVEL_CHANGE, SESSION_REVOKED, CREDENTIAL_CHANGE_REQUIRED];

/** A transmitter on loopback: its issuer named, AUTH_ISSUER set, receivers on 127.0.0.1 allowed, pushes soon. */
export const ssfApp = (env: Record<string, string> = {}): TestAppOptions => ({
  env: { SSF_ISSUER, AUTH_ISSUER, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', ...env },
  webhooks: { pollIntervalMs: 50, attemptTimeoutMs: 5_000 },
});

/** A stream management or poll request with a bearer token; the JSON answer (or null). */
export async function call(
  t: TestApp,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/** A SET verified against the transmitter's JWKS (fetched over HTTP), as a receiver would: its claims. */
export async function verifySet(t: TestApp, set: string, audience: string): Promise<JWTPayload & Record<string, any>> {
  const jwks = (await (await fetch(`${t.url}/ssf/jwks.json`)).json()) as { keys: any[] };
  const { payload, protectedHeader } = await jwtVerify(set, createLocalJWKSet(jwks), {
    issuer: SSF_ISSUER,
    audience,
    typ: 'secevent+jwt',
    algorithms: ['ES256'],
  });
  if (!jwks.keys.some((key) => key.kid === protectedHeader.kid)) throw new Error('kid not in the JWKS');
  return payload as JWTPayload & Record<string, any>;
}

/** An RFC 8935 receiver on 127.0.0.1: records every SET pushed to it, answers 202 (or what `status` says). */
export class SetReceiver {
  readonly received: { set: string; contentType: string | undefined }[] = [];
  status = 202;
  private server: Server | undefined;
  port = 0;

  static async start(): Promise<SetReceiver> {
    const receiver = new SetReceiver();
    receiver.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (receiver.status < 300) {
          receiver.received.push({
            set: Buffer.concat(chunks).toString('utf8'),
            contentType: request.headers['content-type'],
          });
        }
        response.writeHead(receiver.status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.server!.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.server.address() as AddressInfo).port;
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

/** The one event of a verified SET: its type and claims. */
export function eventOf(payload: Record<string, any>): { type: string; claims: Record<string, unknown> } {
  const [type] = Object.keys(payload.events);
  return { type, claims: payload.events[type] };
}
