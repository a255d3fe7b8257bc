import type { Clock } from '../infra/clock';
import type { Logger } from '../infra/logger';
import type { VerifiedMetadataBlob } from './metadata-blob';
import type { MetadataStore, StoreOutcome } from './metadata-store';
import { ModelCatalog, type ModelRegistry } from './model-catalog';

export interface MetadataLoaderDependencies {
  store: MetadataStore;
  registry: ModelRegistry;
  clock: Clock;
  logger: Logger;
}

/**
 * Moves verified blobs into the database and the database's blob into this
 * instance's registry (ADR 0016): `load` stores one (npm run mds:load, a start
 * with FIDO_MDS_BLOB_FILE); `refresh`, run every LIMITS.metadataRefreshSeconds
 * by each instance, reads the stored version and, only when it moved, the
 * models, and swaps the registry's catalog. Blobs are verified before they are
 * stored (metadata-blob.ts); what the database holds is trusted as the rest of
 * it is (it holds the credentials' public keys too).
 */
export class MetadataLoader {
  /** The version the registry's catalog was read at (0: none). */
  private version = 0;

  constructor(private readonly deps: MetadataLoaderDependencies) {}

  /** Stores a verified blob unless the stored one is as new or newer. */
  async load(blob: VerifiedMetadataBlob): Promise<StoreOutcome> {
    return this.deps.store.store(blob, this.deps.clock.now());
  }

  /**
   * At start: stores the blob of FIDO_MDS_BLOB_FILE when it is newer than the
   * stored one (a newer stored one, from mds:load, is kept), then reads what is stored.
   */
  async start(startupBlob: VerifiedMetadataBlob | null): Promise<void> {
    if (startupBlob) {
      for (const warning of startupBlob.warnings) this.deps.logger.warn(warning);
      const outcome = await this.load(startupBlob);
      if (!outcome.stored && outcome.reason === 'older') {
        this.deps.logger.info(
          { fileBlob: startupBlob.no, storedBlob: outcome.current },
          'the database holds a newer Metadata Service blob than FIDO_MDS_BLOB_FILE (npm run mds:load): using it',
        );
      }
    }
    await this.refresh();
  }

  /** Reads the stored blob into the registry when its version moved; true when it did. */
  async refresh(): Promise<boolean> {
    const version = await this.deps.store.version();
    if (version === null || version === this.version) return false;
    const stored = await this.deps.store.read();
    if (!stored) return false;
    const { models, ...blob } = stored;
    this.deps.registry.replace(ModelCatalog.of(blob, models));
    this.version = stored.version;
    this.deps.logger.info(
      { blobNumber: blob.blobNumber, nextUpdate: blob.nextUpdate.toISOString().slice(0, 10), models: models.length },
      'Metadata Service blob in use',
    );
    if (this.deps.clock.now() > blob.nextUpdate) {
      this.deps.logger.warn(
        { blobNumber: blob.blobNumber, nextUpdate: blob.nextUpdate.toISOString().slice(0, 10) },
        'the Metadata Service blob in use is past its nextUpdate: load a newer one (npm run mds:load -- <file>)',
      );
    }
    return true;
  }
}
