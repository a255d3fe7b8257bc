import type { AuditedChanges } from '../../audit/audit-log';
import type { FactorActions } from '../../audit/factor-actions';
import type { TokenVerifier } from '../../callers/token-verifier';
import type { Config } from '../../config/config';
import type { Clock } from '../../infra/clock';
import type { Database } from '../../infra/db/database';
import type { Logger } from '../../infra/logger';
import { NetworkPolicy, type ResolveHost } from '../../infra/outbound/network-policy';
import { type OutboundIntercept, OutboundSender } from '../../infra/outbound/outbound-sender';
import type { Module } from '../../module';
import type { MembershipRepository } from '../../organizations/membership.repository';
import type { MemberStateChanges } from '../../organizations/organization-members';
import { SharedSignals1796690000000 } from './migrations/1796690000000-SharedSignals';
import { SetBuilder, SsfPoller, SsfPusher } from './ssf-delivery';
import { SetSigner } from './ssf-keys';
import { registerSsfRoutes } from './ssf-routes';
import { SsfStreams } from './ssf-streams';
import { SsfEventWriter } from './ssf-writer';
import { SSF_ENTITIES } from './ssf.entities';
import { SsfRepository } from './ssf.repository';

interface SsfNeeds {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  tokens: TokenVerifier;
  factorActions: FactorActions;
  memberships: Pick<MembershipRepository, 'accessFacts'>;
  /** The outbox writer: tells the transmitter of every change in its transaction. */
  securityEvents: { alsoTell(listener: AuditedChanges & MemberStateChanges): void };
  /** Tests' stub DNS, trust anchors and attempt time-out, as for webhooks. */
  webhookOverrides: {
    resolve?: ResolveHost;
    ca?: string | Buffer;
    attemptTimeoutMs?: number;
    pollIntervalMs?: number;
    intercept?: OutboundIntercept;
  };
}

/**
 * The Shared Signals transmitter (OpenID SSF 1.0, CAEP 1.0, RISC 1.0;
 * docs/adr/0023-shared-signals-transmitter.md). Off (no routes, nothing
 * queued) when the configuration has no SSF issuer.
 */
export const ssfModule: Module<SsfNeeds> = {
  name: 'ssf',
  entities: SSF_ENTITIES,
  migrations: [SharedSignals1796690000000],
  async create({
    config,
    database,
    clock,
    logger,
    tokens,
    factorActions,
    memberships,
    securityEvents,
    webhookOverrides,
  }) {
    const settings = config.ssf;
    if (!settings) return {};
    const subjectIssuer = config.auth.issuer ?? settings.issuer;
    const signer = await SetSigner.fromPem(settings.signingKeyPem);
    const repository = new SsfRepository(database);
    const policy = new NetworkPolicy(config.webhooks.allowPrivateNetworks, webhookOverrides.resolve);
    const sender = new OutboundSender(policy, {
      ca: webhookOverrides.ca,
      timeoutMs: webhookOverrides.attemptTimeoutMs,
      userAgent: 'twofactor-ssf/1',
      intercept: webhookOverrides.intercept,
    });
    const sets = new SetBuilder(signer, settings.issuer, subjectIssuer);
    const streams = new SsfStreams({ database, repository, policy, clock, issuer: settings.issuer, subjectIssuer });
    const poller = new SsfPoller({ database, repository, sets, clock });
    const pusher = new SsfPusher({
      database,
      repository,
      sender,
      sets,
      clock,
      logger,
      pollIntervalMs: webhookOverrides.pollIntervalMs ?? config.webhooks.pollIntervalMs,
    });
    securityEvents.alsoTell(new SsfEventWriter(repository, factorActions, memberships, clock));
    return {
      routes: [(fastify) => registerSsfRoutes(fastify, { tokens, issuer: settings.issuer, signer, streams, poller })],
      background: [
        {
          name: 'ssf-push',
          start: () => pusher.start(),
          runOnce: async () => void (await pusher.round()),
          stop: async () => {
            await pusher.stop();
            sender.close();
          },
        },
      ],
    };
  },
};
