import type { Database, Statement } from '../infra/db/database';
import { sqlTime } from '../infra/db/raw-values';
import { Table } from '../infra/db/table';
import type { ModelEntry, VerifiedMetadataBlob } from './metadata-blob';
import { AuthenticatorModelRecord, MetadataServiceRecord } from './metadata.entity';
import type { MetadataBlobInfo } from './model-catalog';

const service = new Table(MetadataServiceRecord);
const models = new Table(AuthenticatorModelRecord);
const CURRENT = 'current';
/** Rows per INSERT when a blob is stored. */
const INSERT_BATCH = 100;
/** A TEXT column's size on MySQL. */
const ROOTS_MAX_BYTES = 65_535;

export type StoreOutcome =
  | { stored: true; version: number }
  /** Nothing changed: the stored blob is the same number, or a higher one. */
  | { stored: false; reason: 'same' | 'older'; current: number };

export interface StoredMetadata extends MetadataBlobInfo {
  models: ModelEntry[];
}

/** The loaded blob in the database (metadata.entity.ts), shared by every instance. */
export class MetadataStore {
  constructor(private readonly database: Database) {}

  /** The stored version (one primary-key read), or null when no blob was ever stored. */
  async version(): Promise<number | null> {
    const rows = await this.database.run((manager) =>
      manager.query(`SELECT ${service.column('version')} FROM ${service.name} WHERE ${service.column('id')} = ?`, [
        CURRENT,
      ]),
    );
    return rows.length > 0 ? Number(rows[0][service.column('version')]) : null;
  }

  /**
   * The stored blob and its models. The version is read first: should a new
   * blob be stored in between, the models read are newer than the version
   * says, and the next check (the version moved on) reads them again; the
   * other way round, an instance could keep old models under a new version.
   */
  async read(): Promise<StoredMetadata | null> {
    return this.database.run(async (manager) => {
      const rows: Record<string, unknown>[] = await manager.query(
        `SELECT ${service.columns('version', 'blobNumber', 'nextUpdate', 'loadedAt', 'entries')} FROM ${service.name}
          WHERE ${service.column('id')} = ?`,
        [CURRENT],
      );
      if (rows.length === 0) return null;
      const info = service.row(rows[0], 'version', 'blobNumber', 'nextUpdate', 'loadedAt', 'entries');
      const modelRows: Record<string, unknown>[] = await manager.query(
        `SELECT ${models.columns('aaguid', 'name', 'certifications', 'compromised', 'attestationRoots')} FROM ${models.name}`,
      );
      return {
        ...info,
        models: modelRows.map((raw) => {
          const row = models.row(raw, 'aaguid', 'name', 'certifications', 'compromised', 'attestationRoots');
          return {
            aaguid: row.aaguid,
            name: row.name,
            certifications: row.certifications ? row.certifications.split(',') : [],
            compromised: row.compromised,
            attestationRoots: row.attestationRoots ? row.attestationRoots.split(',') : [],
          };
        }),
      };
    });
  }

  /**
   * Stores a verified blob in place of the current one, in one transaction
   * (locking the current row), unless the stored one has the same or a higher
   * number.
   */
  async store(blob: VerifiedMetadataBlob, now: Date): Promise<StoreOutcome> {
    for (const model of blob.models) {
      if (model.attestationRoots.join(',').length > ROOTS_MAX_BYTES)
        throw new Error(`the attestation roots of ${model.aaguid} are larger than ${ROOTS_MAX_BYTES} bytes`);
    }
    return this.database.transaction(async (manager) => {
      const [rows] = await this.database.read(manager, [
        {
          sql: `SELECT ${service.columns('version', 'blobNumber')} FROM ${service.name}
                 WHERE ${service.column('id')} = ?${this.database.forUpdate}`,
          parameters: [CURRENT],
        },
      ]);
      const current = rows[0] ? service.row(rows[0], 'version', 'blobNumber') : null;
      if (current && current.blobNumber >= blob.no) {
        return {
          stored: false,
          reason: current.blobNumber === blob.no ? 'same' : 'older',
          current: current.blobNumber,
        };
      }
      const version = (current?.version ?? 0) + 1;
      const statements: Statement[] = [{ sql: `DELETE FROM ${models.name}`, parameters: [] }];
      for (let start = 0; start < blob.models.length; start += INSERT_BATCH) {
        const batch = blob.models.slice(start, start + INSERT_BATCH);
        statements.push({
          sql: `INSERT INTO ${models.name} (${models.columns('aaguid', 'name', 'certifications', 'compromised', 'attestationRoots')})
                VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
          parameters: batch.flatMap((model) => [
            model.aaguid,
            model.name,
            model.certifications.join(','),
            model.compromised ? 1 : 0,
            model.attestationRoots.join(','),
          ]),
        });
      }
      const values = [version, blob.no, sqlTime(blob.nextUpdate), sqlTime(now), blob.entries];
      statements.push(
        current
          ? {
              sql: `UPDATE ${service.name} SET ${service.assignments('version', 'blobNumber', 'nextUpdate', 'loadedAt', 'entries')}
                     WHERE ${service.column('id')} = ?`,
              parameters: [...values, CURRENT],
            }
          : {
              sql: `INSERT INTO ${service.name} (${service.columns('id', 'version', 'blobNumber', 'nextUpdate', 'loadedAt', 'entries')})
                    VALUES (?, ?, ?, ?, ?, ?)`,
              parameters: [CURRENT, ...values],
            },
      );
      for (const statement of statements) await this.database.queue(manager, statement);
      return { stored: true, version };
    });
  }
}
