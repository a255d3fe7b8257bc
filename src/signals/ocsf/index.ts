import type { FactorActions } from '../../audit/factor-actions';
import type { TokenVerifier } from '../../callers/token-verifier';
import type { Database } from '../../infra/db/database';
import type { Module } from '../../module';
import { AuditEventOcsfResolver } from './audit-event-ocsf.resolver';
import { OcsfFeed } from './ocsf-feed';
import { registerOcsfRoute } from './ocsf-route';

interface OcsfNeeds {
  database: Database;
  factorActions: FactorActions;
  tokens: TokenVerifier;
}

/** OCSF for SIEMs: the AuditEvent.ocsf field and GET /audit/ocsf, from the audit log alone. */
export const ocsfModule: Module<OcsfNeeds> = {
  name: 'ocsf',
  resolvers: [AuditEventOcsfResolver],
  create({ database, tokens, factorActions }) {
    const feed = new OcsfFeed(database, factorActions);
    return {
      resolvers: [new AuditEventOcsfResolver(factorActions)],
      routes: [(fastify) => registerOcsfRoute(fastify, tokens, feed)],
    };
  },
};
