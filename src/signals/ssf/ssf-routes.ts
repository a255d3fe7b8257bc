import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../callers/caller';
import type { TokenVerifier } from '../../callers/token-verifier';
import { AppError } from '../../errors';
import { bearerCaller, refuse } from '../bearer';
import { parsePollRequest, type SsfPoller } from './ssf-delivery';
import type { SetSigner } from './ssf-keys';
import { POLL_METHOD, PUSH_METHOD, SSF_PATHS, type SsfStreams } from './ssf-streams';

const ADMIN_SCOPE = 'twofactor:admin' as const;
const STATUS_FOR: Partial<Record<string, number>> = { BAD_USER_INPUT: 400, NOT_FOUND: 404, FORBIDDEN: 403 };

/** The transmitter configuration metadata (SSF 1.0 §7.1): absolute URLs under SSF_ISSUER. */
export function transmitterConfiguration(issuer: string): Record<string, unknown> {
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}${SSF_PATHS.jwks}`,
    delivery_methods_supported: [PUSH_METHOD, POLL_METHOD],
    configuration_endpoint: `${issuer}${SSF_PATHS.configuration}`,
    status_endpoint: `${issuer}${SSF_PATHS.status}`,
    add_subject_endpoint: `${issuer}${SSF_PATHS.addSubject}`,
    remove_subject_endpoint: `${issuer}${SSF_PATHS.removeSubject}`,
    verification_endpoint: `${issuer}${SSF_PATHS.verification}`,
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6750' }],
    default_subjects: 'NONE',
  };
}

/**
 * The transmitter's HTTP endpoints: its metadata and keys for anyone; stream
 * management and polling for a bearer token holding twofactor:admin (401
 * without a token, 403 without the scope).
 */
export function registerSsfRoutes(
  fastify: FastifyInstance,
  deps: { tokens: TokenVerifier; issuer: string; signer: SetSigner; streams: SsfStreams; poller: SsfPoller },
): void {
  const { tokens, issuer, signer, streams, poller } = deps;
  const configuration = transmitterConfiguration(issuer);

  fastify.get('/.well-known/ssf-configuration', async (_request, reply) => reply.send(configuration));
  fastify.get(SSF_PATHS.jwks, async (_request, reply) => reply.send(signer.jwks()));

  /** An admin route: the caller checked, then `work`, with AppErrors as their statuses. */
  const admin =
    (work: (caller: Caller, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const caller = await bearerCaller(tokens, request, reply, ADMIN_SCOPE);
      if (!caller) return reply;
      try {
        const result = await work(caller, request, reply);
        if (result === undefined) return reply.code(reply.statusCode === 200 ? 204 : reply.statusCode).send();
        return reply.type('application/json; charset=utf-8').send(result);
      } catch (error) {
        const status = error instanceof AppError ? STATUS_FOR[error.code] : undefined;
        if (status !== undefined) return refuse(reply, status, error as AppError, ADMIN_SCOPE);
        throw error;
      }
    };
  const streamIdOf = (request: FastifyRequest) => {
    const value = (request.query as Record<string, unknown>).stream_id;
    if (value !== undefined && typeof value !== 'string') throw new AppError('BAD_USER_INPUT', 'Give stream_id once.');
    return value;
  };

  const path = SSF_PATHS.configuration;
  fastify.post(
    path,
    admin(async (caller, request, reply) => {
      reply.code(201);
      return streams.create(caller, request.body);
    }),
  );
  fastify.get(
    path,
    admin(async (_caller, request) => streams.read(streamIdOf(request))),
  );
  fastify.patch(
    path,
    admin(async (caller, request) => streams.update(caller, request.body, 'update')),
  );
  fastify.put(
    path,
    admin(async (caller, request) => streams.update(caller, request.body, 'replace')),
  );
  fastify.delete(
    path,
    admin(async (_caller, request) => streams.delete(streamIdOf(request))),
  );

  fastify.get(
    SSF_PATHS.status,
    admin(async (_caller, request) => streams.status(streamIdOf(request))),
  );
  fastify.post(
    SSF_PATHS.status,
    admin(async (_caller, request) => streams.setStatus(request.body)),
  );
  // `::` is a literal colon in the router's paths.
  fastify.post(
    SSF_PATHS.addSubject.replace(':', '::'),
    admin(async (_caller, request) => {
      await streams.addSubject(request.body);
      return {};
    }),
  );
  fastify.post(
    SSF_PATHS.removeSubject.replace(':', '::'),
    admin(async (_caller, request) => streams.removeSubject(request.body)),
  );
  fastify.post(
    SSF_PATHS.verification,
    admin(async (_caller, request) => streams.verify(request.body)),
  );

  fastify.post(
    `${SSF_PATHS.poll}:streamId`,
    admin(async (_caller, request) => {
      const stream = await streams.find((request.params as { streamId: string }).streamId);
      if (stream.deliveryMethod !== 'poll') throw new AppError('NOT_FOUND', 'This stream is delivered by push.');
      const poll = parsePollRequest(request.body);
      // A long poll stops waiting when its receiver went away.
      return poller.poll(stream, poll, () => request.socket.destroyed);
    }),
  );
}
