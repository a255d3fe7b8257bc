import type { Config } from '../config/config';
import type { Clock } from '../infra/clock';
import type { Database } from '../infra/db/database';
import { PeriodicJob } from '../infra/jobs/periodic-job';
import type { Logger } from '../infra/logger';
import { LIMITS } from '../limits';
import type { Module } from '../module';
import { AttestationVerifier } from './attestation';
import { AuthenticatorModelResolver } from './authenticators.resolver';
import type { MetadataTrust, VerifiedMetadataBlob } from './metadata-blob';
import { MetadataLoader } from './metadata-loader';
import { readMetadataTrust, readStartupBlob } from './metadata-settings';
import { MetadataStore } from './metadata-store';
import { AUTHENTICATOR_ENTITIES } from './metadata.entity';
import { AuthenticatorModels1796681442039 } from './migrations/1796681442039-AuthenticatorModels';
import { ModelRegistry } from './model-catalog';

export { AttestationVerifier, withoutAttestation, ZERO_AAGUID, type AttestationResult } from './attestation';
export { AuthenticatorModelResolver } from './authenticators.resolver';
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
export async function verifyStartupMetadata(
  config: Pick<Config, 'metadataService'>,
  clock: Clock,
): Promise<MetadataStart> {
  const trust = readMetadataTrust(config.metadataService);
  return { trust, blob: await readStartupBlob(config.metadataService, trust, clock.now()) };
}

interface AuthenticatorsNeeds {
  config: Pick<Config, 'metadataService'>;
  database: Database;
  clock: Clock;
  logger: Logger;
  authenticatorModels: ModelRegistry;
}

interface AuthenticatorsGives {
  /** The models of the loaded blob (ModelCatalog via `current`), swapped whole when a new one is seen. */
  authenticatorModels: ModelRegistry;
  /** A registration's attestation, verified against the blob's roots for its AAGUID. */
  attestation: AttestationVerifier;
}

/**
 * At start: FIDO_MDS_BLOB_FILE verified (a blob that does not verify or is
 * stale refuses the start), stored when it is the newest, and the stored one
 * read into the registry; then re-read by every instance when it changes.
 */
export const authenticatorsModule: Module<AuthenticatorsNeeds, AuthenticatorsGives> = {
  name: 'authenticators',
  entities: AUTHENTICATOR_ENTITIES,
  migrations: [AuthenticatorModels1796681442039],
  resolvers: [AuthenticatorModelResolver],
  provides: {
    authenticatorModels: () => new ModelRegistry(),
    attestation: ({ authenticatorModels, clock }) => new AttestationVerifier(authenticatorModels, clock),
  },
  async create({ config, database, clock, logger, authenticatorModels }) {
    const start = await verifyStartupMetadata(config, clock);
    const loader = new MetadataLoader({
      store: new MetadataStore(database),
      registry: authenticatorModels,
      clock,
      logger,
    });
    await loader.start(start.blob);
    return {
      resolvers: [new AuthenticatorModelResolver(authenticatorModels)],
      background: [
        new PeriodicJob('metadata service blob', LIMITS.metadataRefreshSeconds * 1000, () => loader.refresh(), logger),
      ],
    };
  },
};
