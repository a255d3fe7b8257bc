import type { EntityManager } from 'typeorm';
import type { ModelEntry, VerifiedMetadataBlob } from '../../../../src/authenticators/metadata-blob';
import { MetadataStore, type StoredMetadata } from '../../../../src/authenticators/metadata-store';
import { AuthenticatorModelRecord, MetadataServiceRecord } from '../../../../src/authenticators/metadata.entity';
import { filled, type PlainSqlCase, writesAlike } from './harness';

const model = (aaguid: string, compromised: boolean): ModelEntry => ({
  aaguid,
  name: `Key ${aaguid.slice(0, 4)} ✓`,
  certifications: ['FIDO_CERTIFIED', 'FIDO_CERTIFIED_L2'],
  compromised,
  attestationRoots: ['MIIB-root-one', 'MIIB-root-two'],
});

const blob = (no: number, models: ModelEntry[]): VerifiedMetadataBlob => ({
  no,
  nextUpdate: new Date('2027-01-01T00:00:00.000Z'),
  entries: models.length + 7,
  models,
  warnings: [],
});

const LOADED_AT = new Date('2026-12-01T10:00:00.123Z');

/** The stored blob and its models, written by TypeORM (every column set). */
async function putStored(manager: EntityManager, version: number, no: number, models: ModelEntry[]): Promise<void> {
  await manager.clear(AuthenticatorModelRecord);
  await manager.clear(MetadataServiceRecord);
  await manager.insert(
    MetadataServiceRecord,
    filled(MetadataServiceRecord, {
      id: 'current',
      version,
      blobNumber: no,
      nextUpdate: blob(no, models).nextUpdate,
      loadedAt: new Date('2026-11-01T10:00:00.456Z'),
      entries: blob(no, models).entries,
    }),
  );
  if (models.length > 0) await manager.insert(AuthenticatorModelRecord, models.map(modelRecord));
}

const modelRecord = (entry: ModelEntry) =>
  filled(AuthenticatorModelRecord, {
    aaguid: entry.aaguid,
    name: entry.name,
    certifications: entry.certifications.join(','),
    compromised: entry.compromised,
    attestationRoots: entry.attestationRoots.join(','),
  });

/** The stored blob as TypeORM reads it, models in AAGUID order. */
async function storedByTypeorm(manager: EntityManager): Promise<StoredMetadata | null> {
  const row = await manager.findOneBy(MetadataServiceRecord, { id: 'current' });
  if (!row) return null;
  const { id: _id, ...info } = row;
  const models = await manager.find(AuthenticatorModelRecord, { order: { aaguid: 'ASC' } });
  return {
    ...info,
    models: models.map((one) => ({
      aaguid: one.aaguid,
      name: one.name,
      certifications: one.certifications ? one.certifications.split(',') : [],
      compromised: one.compromised,
      attestationRoots: one.attestationRoots ? one.attestationRoots.split(',') : [],
    })),
  };
}

const inAaguidOrder = (stored: StoredMetadata | null) =>
  stored && { ...stored, models: [...stored.models].sort((a, b) => a.aaguid.localeCompare(b.aaguid)) };

const OLD_MODELS = [
  model('0000aaaa-0000-0000-0000-000000000001', true),
  model('0000aaaa-0000-0000-0000-000000000002', false),
];
const NEW_MODELS = [
  model('1111bbbb-0000-0000-0000-000000000001', false),
  model('0000aaaa-0000-0000-0000-000000000002', true),
];

export const AUTHENTICATOR_CASES: PlainSqlCase[] = [
  {
    name: 'the Metadata Service version and the stored blob read as TypeORM reads them',
    holds: ['MetadataStore.version', 'MetadataStore.read'],
    async run({ database, manager }) {
      const store = new MetadataStore(database);
      await manager.clear(AuthenticatorModelRecord);
      await manager.clear(MetadataServiceRecord);
      expect(await store.version()).toBeNull();
      expect(await store.read()).toBeNull();
      await putStored(manager, 3, 40, OLD_MODELS);
      expect(await store.version()).toBe(
        (await manager.findOneByOrFail(MetadataServiceRecord, { id: 'current' })).version,
      );
      const expected = await storedByTypeorm(manager);
      expect(expected?.models).toHaveLength(2);
      expect(inAaguidOrder(await store.read())).toEqual(expected);
    },
  },
  {
    name: "a newer blob is stored in place of the current one as TypeORM's delete, insert and save store it",
    holds: ['MetadataStore.store'],
    async run(db) {
      const rows = async (manager: EntityManager) => ({
        service: await manager.find(MetadataServiceRecord),
        models: await manager.find(AuthenticatorModelRecord, { order: { aaguid: 'ASC' } }),
      });
      /** What `store` does, in TypeORM: unless the stored blob's number is as high, replace the models and the row. */
      const storeByTypeorm = async (manager: EntityManager, next: VerifiedMetadataBlob) => {
        const current = await manager.findOneBy(MetadataServiceRecord, { id: 'current' });
        if (current && current.blobNumber >= next.no) {
          return {
            stored: false,
            reason: current.blobNumber === next.no ? 'same' : 'older',
            current: current.blobNumber,
          };
        }
        const version = (current?.version ?? 0) + 1;
        await manager.clear(AuthenticatorModelRecord);
        await manager.insert(AuthenticatorModelRecord, next.models.map(modelRecord));
        await manager.save(
          Object.assign(new MetadataServiceRecord(), {
            id: 'current',
            version,
            blobNumber: next.no,
            nextUpdate: next.nextUpdate,
            loadedAt: LOADED_AT,
            entries: next.entries,
          }),
        );
        return { stored: true, version };
      };
      // The first blob (an INSERT), a newer one (an UPDATE), the same and an older one (nothing).
      const starts: [string, (manager: EntityManager) => Promise<void>, VerifiedMetadataBlob][] = [
        [
          'none stored',
          async (manager) => {
            await manager.clear(AuthenticatorModelRecord);
            await manager.clear(MetadataServiceRecord);
          },
          blob(41, NEW_MODELS),
        ],
        ['an older one stored', (manager) => putStored(manager, 3, 40, OLD_MODELS), blob(41, NEW_MODELS)],
      ];
      for (const [, seed, next] of starts) {
        const { plain, typeorm } = await writesAlike(db, {
          seed,
          // It opens its own transaction.
          transaction: false,
          plain: () => new MetadataStore(db.database).store(next, LOADED_AT),
          typeorm: () => db.database.transaction((tx) => storeByTypeorm(tx, next)),
          rows,
        });
        expect(plain).toEqual(typeorm);
      }
      for (const no of [40, 39]) {
        await putStored(db.manager, 3, 40, OLD_MODELS);
        const before = await rows(db.manager);
        const plain = await new MetadataStore(db.database).store(blob(no, NEW_MODELS), LOADED_AT);
        expect(plain).toEqual(await db.database.transaction((tx) => storeByTypeorm(tx, blob(no, NEW_MODELS))));
        expect(await rows(db.manager)).toEqual(before);
      }
    },
  },
];
