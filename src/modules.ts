import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { adminModule } from './admin';
import { attemptsModule } from './attempts';
import { auditModule } from './audit';
import type { FactorActions } from './audit/factor-actions';
import { authenticatorsModule } from './authenticators';
import type { TokenVerifier } from './callers/token-verifier';
import type { Config } from './config/config';
import { directoryModule } from './directory';
import { enforcementModule } from './enforcement';
import { factorsModule } from './factors';
import { recoveryCodesModule } from './factors/recovery-codes';
import { smsModule } from './factors/sms';
import { totpModule } from './factors/totp';
import { webAuthnModule } from './factors/webauthn';
import { buildSchemaOf } from './graphql/schema';
import type { Metrics } from './http/metrics';
import type { Clock } from './infra/clock';
import type { SecretBox } from './infra/crypto/cipher';
import type { StoreKeyHash } from './infra/crypto/store-key-hash';
import type { DatabaseSchema } from './infra/db/data-source';
import type { Database } from './infra/db/database';
import { CORE_MIGRATIONS } from './infra/db/migrations';
import type { Logger } from './infra/logger';
import type { SmsSender } from './infra/sms-sender/sms-sender';
import type { Store } from './infra/store/store';
import { keysModule } from './keys';
import { loginModule } from './login';
import type { CiphertextDeclaration, Module } from './module';
import { organizationsModule } from './organizations';
import { ocsfModule } from './signals/ocsf';
import { ssfModule } from './signals/ssf';
import { trustedDevicesModule } from './trusted-devices';
import { usersModule } from './users';
import { type WebhookOverrides, webhooksModule } from './webhooks';

/**
 * Every module of the service, once (docs/adr/0015-modules-wire-themselves.md).
 * The second factors are tried in the order they stand here. Adding a factor or
 * a capability is a folder and one line in this list.
 */
export const MODULES = [
  usersModule,
  auditModule,
  keysModule,
  attemptsModule,
  factorsModule,
  totpModule,
  smsModule,
  webAuthnModule,
  recoveryCodesModule,
  authenticatorsModule,
  trustedDevicesModule,
  organizationsModule,
  enforcementModule,
  loginModule,
  directoryModule,
  adminModule,
  webhooksModule,
  ocsfModule,
  ssfModule,
] as const;

/** The tables of every module, and every migration in the order they run (their timestamps). */
export const DATABASE_SCHEMA: DatabaseSchema = {
  entities: MODULES.flatMap((module: Module<never, unknown>) => module.entities ?? []),
  migrations: [
    ...CORE_MIGRATIONS,
    ...MODULES.flatMap((module: Module<never, unknown>) => module.migrations ?? []),
  ].sort((a, b) => timestampOf(a) - timestampOf(b)),
};

/** Every factor module's signals (src/module.ts FactorSignals), in the list's order. */
export const FACTOR_SIGNALS = MODULES.flatMap((module: Module<never, unknown>) =>
  module.signals ? [module.signals] : [],
);

/** Every module's columns of ciphertexts (src/module.ts CiphertextDeclaration): what key rotation re-encrypts. */
export const CIPHERTEXTS: readonly CiphertextDeclaration[] = MODULES.flatMap(
  (module: Module<never, unknown>) => module.ciphertexts ?? [],
);

/** The API's schema from every module's resolvers; without instances it is only printed (npm run build). */
export function buildGraphQLSchema(instances: object[] = []): Promise<GraphQLSchema> {
  return buildSchemaOf(
    MODULES.flatMap((module: Module<never, unknown>) => module.resolvers ?? []),
    instances,
  );
}

/** A migration class is named <Name><13-digit timestamp> (TypeORM's generator). */
function timestampOf(migration: Function): number {
  const match = /(\d{13})$/.exec(migration.name);
  if (!match) throw new Error(`migration ${migration.name} has no timestamp in its name`);
  return Number(match[1]);
}

/** What the composition root makes before any module: the outside world, and the settings. */
export interface Adapters {
  config: Config;
  logger: Logger;
  clock: Clock;
  database: Database;
  store: Store;
  secrets: SecretBox;
  storeKeys: StoreKeyHash;
  metrics: Metrics;
  smsSender: SmsSender;
  /** What every factor's audited actions mean to the signals (each factor module's FactorSignals). */
  factorActions: FactorActions;
  /** Every module's columns of ciphertexts (CIPHERTEXTS). */
  ciphertexts: readonly CiphertextDeclaration[];
  /** Verifies callers' bearer tokens: GraphQL's and the plain routes'. */
  tokens: TokenVerifier;
  /** Tests' stub DNS, trust anchors and time-outs for webhook delivery. */
  webhookOverrides: WebhookOverrides;
}

/**
 * Every service the adapters and the modules give; the composition root's
 * registry (src/module.ts createRegistry) has these.
 */
export type Services = Adapters & UnionToIntersection<GivesOf<(typeof MODULES)[number]>>;

type GivesOf<M> = M extends Module<any, infer Gives, any> ? Gives : never;
type NeedsOf<M> = M extends Module<infer Needs, any, any> ? Needs : never;
type NameOf<M> = M extends { name: infer Name } ? Name : never;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** Compile-time proof that every module's needs are met: a module named here needs something nobody gives. */
type UnmetOf<M> = M extends unknown ? (Services extends NeedsOf<M> ? never : NameOf<M>) : never;
type Unmet = UnmetOf<(typeof MODULES)[number]>;
/** The services that modules need and nobody gives, by name (empty when a need is met with the wrong type). */
type Missing<M = (typeof MODULES)[number]> = M extends unknown ? Exclude<keyof NeedsOf<M>, keyof Services> : never;
export const EVERY_NEED_IS_MET: [Unmet] extends [never] ? true : { unmet: Unmet; missing: Missing } = true;
