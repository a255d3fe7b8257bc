import 'reflect-metadata';
import { X509Certificate } from '@peculiar/x509';
import type { ModelEntry } from './metadata-blob';

/** A model as callers see it (GraphQL's AuthenticatorModel). */
export interface AuthenticatorModelView {
  aaguid: string;
  name: string;
  certifications: string[];
  compromised: boolean;
}

/** Which blob a catalog is made of. */
export interface MetadataBlobInfo {
  blobNumber: number;
  nextUpdate: Date;
  /** When it was stored (npm run mds:load, or the start that stored it). */
  loadedAt: Date;
  entries: number;
  /** The stored version: what each instance compares to see a new blob. */
  version: number;
}

const byNameThenAaguid = (a: AuthenticatorModelView, b: AuthenticatorModelView) => {
  const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
  if (x !== y) return x < y ? -1 : 1;
  return a.aaguid < b.aaguid ? -1 : a.aaguid > b.aaguid ? 1 : 0;
};

/**
 * The authenticator models of one loaded blob, by AAGUID: immutable, so a
 * reader holding it sees one blob whole; a new blob is a new catalog, swapped
 * in by the ModelRegistry. Every read is in memory (no I/O on hot paths).
 */
export class ModelCatalog {
  static readonly EMPTY = new ModelCatalog(null, []);

  private readonly byAaguid: ReadonlyMap<string, ModelEntry>;
  private readonly sorted: readonly AuthenticatorModelView[];
  private readonly roots = new Map<string, Promise<X509Certificate[]>>();
  /** AAGUIDs of the models reported compromised (for readers that filter in SQL). */
  readonly compromisedAaguids: readonly string[];

  private constructor(
    /** Null while no blob is loaded. */
    readonly blob: MetadataBlobInfo | null,
    models: readonly ModelEntry[],
  ) {
    this.byAaguid = new Map(models.map((model) => [model.aaguid, model]));
    this.sorted = [...this.byAaguid.values()].map(view).sort(byNameThenAaguid);
    this.compromisedAaguids = this.sorted
      .filter((model) => model.compromised)
      .map((model) => model.aaguid)
      .sort();
  }

  static of(blob: MetadataBlobInfo | null, models: readonly ModelEntry[]): ModelCatalog {
    return new ModelCatalog(blob, models);
  }

  /** The model of an AAGUID (any case), when the blob lists it. */
  model(aaguid: string): AuthenticatorModelView | undefined {
    const entry = this.byAaguid.get(aaguid.toLowerCase());
    return entry ? view(entry) : undefined;
  }

  isListed(aaguid: string): boolean {
    return this.byAaguid.has(aaguid.toLowerCase());
  }

  /** True when the blob reports the model compromised or revoked; an unlisted model is not "reported". */
  isCompromised(aaguid: string): boolean {
    return this.byAaguid.get(aaguid.toLowerCase())?.compromised === true;
  }

  /** Every model, by name (case-insensitively), then AAGUID. */
  models(): readonly AuthenticatorModelView[] {
    return this.sorted;
  }

  /**
   * The model's attestation roots, parsed once per catalog; roots that cannot
   * be read are left out (an attestation then cannot chain to them).
   */
  attestationRoots(aaguid: string): Promise<X509Certificate[]> {
    const key = aaguid.toLowerCase();
    let roots = this.roots.get(key);
    if (!roots) {
      const encoded = this.byAaguid.get(key)?.attestationRoots ?? [];
      roots = Promise.resolve(
        encoded.flatMap((der) => {
          try {
            return [new X509Certificate(Buffer.from(der, 'base64'))];
          } catch {
            return [];
          }
        }),
      );
      this.roots.set(key, roots);
    }
    return roots;
  }
}

function view(entry: ModelEntry): AuthenticatorModelView {
  return {
    aaguid: entry.aaguid,
    name: entry.name,
    certifications: [...entry.certifications],
    compromised: entry.compromised,
  };
}

/**
 * The catalog an instance uses now: one reference, replaced whole when a new
 * blob is seen (an assignment: readers never see half of two blobs).
 */
export class ModelRegistry {
  private catalog: ModelCatalog = ModelCatalog.EMPTY;
  private readonly listeners: ((catalog: ModelCatalog) => void)[] = [];

  get current(): ModelCatalog {
    return this.catalog;
  }

  replace(catalog: ModelCatalog): void {
    this.catalog = catalog;
    for (const listener of this.listeners) listener(catalog);
  }

  /** Called with each new catalog (e.g. to drop what was derived from the former one). */
  onReplace(listener: (catalog: ModelCatalog) => void): void {
    this.listeners.push(listener);
  }
}
