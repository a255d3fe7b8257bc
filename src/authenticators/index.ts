import type { Config } from '../config/config';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import { AttestationVerifier } from './attestation';
import { AuthenticatorModelResolver } from './authenticators.resolver';
import type { MetadataTrust, VerifiedMetadataBlob } from './metadata-blob';
import { MetadataLoader } from './metadata-loader';
import { readMetadataTrust, readStartupBlob } from './metadata-settings';
import { MetadataStore } from './metadata-store';
import { ModelRegistry } from './model-catalog';

export { AttestationVerifier, withoutAttestation, ZERO_AAGUID, type AttestationResult } from './attestation';
export { AuthenticatorModelResolver } from './authenticators.resolver';
export { AUTHENTICATOR_ENTITIES } from './metadata.entity';
export { ModelCatalog, ModelRegistry, type AuthenticatorModelView, type MetadataBlobInfo } from './model-catalog';

/**
 * Which security keys count (issue 25), as a module: the FIDO Metadata
 * Service blob (verified, stored for every instance, re-read when it changes),
 * the model registry it feeds, attestation against it, and its GraphQL
 * queries. What the rest of the service uses:
 *
 * - `models.current` (a ModelCatalog): by AAGUID, listed, name, certifications,
 *   compromised; swapped whole when a new blob is seen; no I/O;
 * - `attestation.verify(registrationResponse)`: { aaguid, attested, deviceBound };
 * - the `authenticator_models` table, for readers that filter in SQL (ADR 0016).
 */
export interface Authenticators {
  models: ModelRegistry;
  attestation: AttestationVerifier;
  loader: MetadataLoader;
  resolver: AuthenticatorModelResolver;
  /** Every LIMITS.metadataRefreshSeconds: a new stored blob comes into use (started with the app's jobs). */
  refreshJob: PeriodicJob;
}

/** What the start verified before anything opened. */
export interface MetadataStart {
  trust: MetadataTrust;
  blob: VerifiedMetadataBlob | null;
}

/**
 * Reads the trusted roots and verifies FIDO_MDS_BLOB_FILE; throws a
 * ConfigError (the start is refused) when either cannot be used. Call before
 * opening the database.
 */
export async function verifyStartupMetadata(config: Config, clock: Clock): Promise<MetadataStart> {
  const trust = readMetadataTrust(config.metadataService);
  return { trust, blob: await readStartupBlob(config.metadataService, trust, clock.now()) };
}

/** Stores the start's blob when it is the newest, reads the stored one into the registry. */
export async function createAuthenticators(deps: {
  start: MetadataStart;
  database: Database;
  clock: Clock;
  logger: Logger;
}): Promise<Authenticators> {
  const { database, clock, logger } = deps;
  const models = new ModelRegistry();
  const loader = new MetadataLoader({ store: new MetadataStore(database), registry: models, clock, logger });
  await loader.start(deps.start.blob);
  return {
    models,
    attestation: new AttestationVerifier(models, clock),
    loader,
    resolver: new AuthenticatorModelResolver(models),
    refreshJob: new PeriodicJob(
      'metadata service blob',
      LIMITS.metadataRefreshSeconds * 1000,
      () => loader.refresh(),
      logger,
    ),
  };
}
