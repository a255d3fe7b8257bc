import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../callers/token-verifier';
import type { Database } from '../../infra/db/database';
import { AuditEventOcsfResolver } from './audit-event-ocsf.resolver';
import { OcsfFeed } from './ocsf-feed';
import { registerOcsfRoute } from './ocsf-route';

export { AuditEventOcsfResolver } from './audit-event-ocsf.resolver';

/** OCSF for SIEMs: the AuditEvent.ocsf field and GET /audit/ocsf, from the audit log alone. */
export function createOcsfSignals(database: Database) {
  const feed = new OcsfFeed(database);
  return {
    resolvers: [new AuditEventOcsfResolver()],
    routes: (fastify: FastifyInstance, tokens: TokenVerifier) => registerOcsfRoute(fastify, tokens, feed),
  };
}
