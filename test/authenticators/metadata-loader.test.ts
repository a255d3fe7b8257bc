import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { verifyMetadataBlob, type MetadataTrust } from '../../src/authenticators/metadata-blob';
import { MetadataLoader } from '../../src/authenticators/metadata-loader';
import { MetadataStore } from '../../src/authenticators/metadata-store';
import { ModelRegistry } from '../../src/authenticators/model-catalog';
import { ManualClock } from '../../src/infra/clock';
import { createDataSource, detectMysqlFlavor } from '../../src/infra/db/data-source';
import { Database } from '../../src/infra/db/database';
import { migrate } from '../../src/infra/db/migrate';
import { createLogger } from '../../src/infra/logger';
import { DATABASE_SCHEMA } from '../../src/modules';
import { TestAuthenticatorModel, TestMetadataService } from '../support/metadata-ca';
import { createTestDatabase } from '../support/test-app';

/** One instance's view: its own pool, registry and loader, on a shared database. */
function instance(dataSource: DataSource, clock: ManualClock) {
  const logs: string[] = [];
  const logger = createLogger('info', {
    destination: new Writable({
      write(chunk, _encoding, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  const database = new Database(dataSource);
  const store = new MetadataStore(database);
  const registry = new ModelRegistry();
  const loader = new MetadataLoader({ store, registry, clock, logger });
  return { database, store, registry, loader, logs };
}

describe('the loaded blob, shared by every instance through the database', () => {
  let mds: TestMetadataService;
  let trust: MetadataTrust;
  let keyA: TestAuthenticatorModel;
  let keyB: TestAuthenticatorModel;
  const clock = new ManualClock(new Date());
  const sources: DataSource[] = [];
  let drop: () => Promise<void>;
  let url: string;

  beforeAll(async () => {
    mds = await TestMetadataService.create();
    trust = { anchors: [mds.root.certificate], crls: [], maxAgeDays: 60 };
    keyA = await TestAuthenticatorModel.create('Key A');
    keyB = await TestAuthenticatorModel.create('Key B');
    const database = await createTestDatabase();
    url = database.url;
    drop = database.drop;
  });

  afterAll(async () => {
    for (const source of sources) if (source.isInitialized) await source.destroy();
    await drop();
  });

  async function mariaDb(): Promise<DataSource> {
    const source = createDataSource({ kind: 'mysql', url }, DATABASE_SCHEMA, { flavor: await detectMysqlFlavor(url) });
    await source.initialize();
    sources.push(source);
    return source;
  }

  const verify = async (options: Parameters<TestMetadataService['sign']>[0]) =>
    verifyMetadataBlob(await mds.sign(options), trust, clock.now());

  it('reaches a second instance at its next check, swapping its models at once, without a restart', async () => {
    const first = instance(await mariaDb(), clock);
    await migrate(first.database.dataSource, createLogger('silent'));
    const second = instance(await mariaDb(), clock);
    await second.loader.start(null);
    expect(second.registry.current.blob).toBeNull();
    expect(second.registry.current.model(keyA.aaguid)).toBeUndefined();

    expect(await first.loader.load(await verify({ no: 1, entries: [keyA.entry(), keyB.entry()] }))).toMatchObject({
      stored: true,
    });
    // Nothing changes on the second instance until it checks.
    expect(second.registry.current.model(keyA.aaguid)).toBeUndefined();
    expect(await second.loader.refresh()).toBe(true);
    const before = second.registry.current;
    expect(before.blob).toMatchObject({ blobNumber: 1, entries: 2 });
    expect(before.model(keyA.aaguid)).toMatchObject({ name: 'Key A', compromised: false });

    // A new blob reports key A compromised: the second instance's next check swaps the whole view.
    await first.loader.load(
      await verify({ no: 2, entries: [keyA.entry(['FIDO_CERTIFIED_L1', 'ATTESTATION_KEY_COMPROMISE']), keyB.entry()] }),
    );
    expect(await second.loader.refresh()).toBe(true);
    const after = second.registry.current;
    expect(after).not.toBe(before);
    expect(after.isCompromised(keyA.aaguid)).toBe(true);
    expect(after.compromisedAaguids).toEqual([keyA.aaguid]);
    expect(after.isCompromised(keyB.aaguid)).toBe(false);
    // A reader holding the former view sees it whole (never half of each).
    expect(before.isCompromised(keyA.aaguid)).toBe(false);
    // The same for every reader of the instance: what the first instance stored, it sees at its own check.
    expect(await first.loader.refresh()).toBe(true);
    expect(first.registry.current.isCompromised(keyA.aaguid)).toBe(true);
  });

  it('reads only the version when nothing changed (one primary-key read per check)', async () => {
    const reader = instance(await mariaDb(), clock);
    await reader.loader.start(null);
    const version = jest.spyOn(reader.store, 'version');
    const read = jest.spyOn(reader.store, 'read');
    expect(await reader.loader.refresh()).toBe(false);
    expect(version).toHaveBeenCalledTimes(1);
    expect(read).not.toHaveBeenCalled();
  });

  it('refuses an older blob than the one loaded (no rollback to before a compromise report), and takes the same one as done', async () => {
    const loader = instance(await mariaDb(), clock);
    await loader.loader.start(null);
    const stored = loader.registry.current.blob!.blobNumber;
    expect(await loader.loader.load(await verify({ no: stored - 1, entries: [keyB.entry()] }))).toEqual({
      stored: false,
      reason: 'older',
      current: stored,
    });
    expect(await loader.loader.load(await verify({ no: stored, entries: [keyB.entry()] }))).toEqual({
      stored: false,
      reason: 'same',
      current: stored,
    });
    expect(await loader.loader.refresh()).toBe(false);
    expect(loader.registry.current.isCompromised(keyA.aaguid)).toBe(true);
  });

  it('at start stores the blob of FIDO_MDS_BLOB_FILE when newer, and keeps a newer stored one (logged)', async () => {
    const starting = instance(await mariaDb(), clock);
    const stored = (await new MetadataStore(starting.database).read())!.blobNumber;
    await starting.loader.start(await verify({ no: stored - 1, entries: [] }));
    expect(starting.registry.current.blob?.blobNumber).toBe(stored);
    expect(starting.logs.join('')).toMatch(/newer/);

    const upgrading = instance(await mariaDb(), clock);
    await upgrading.loader.start(await verify({ no: stored + 5, entries: [keyB.entry()] }));
    expect(upgrading.registry.current.blob).toMatchObject({ blobNumber: stored + 5, entries: 1 });
    expect(upgrading.registry.current.model(keyA.aaguid)).toBeUndefined();
    expect(upgrading.registry.current.blob!.loadedAt).toEqual(clock.now());
  });

  it('works the same on the embedded SQLite file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tf-mds-sqlite-')), 'twofactor.sqlite');
    const source = createDataSource({ kind: 'sqlite', file }, DATABASE_SCHEMA);
    await source.initialize();
    sources.push(source);
    await migrate(source, createLogger('silent'));
    const embedded = instance(source, clock);
    await embedded.loader.start(
      await verify({ no: 4, entries: [keyA.entry(['REVOKED']), keyB.entry(['FIDO_CERTIFIED_L3'])] }),
    );
    expect(embedded.registry.current.blob).toMatchObject({ blobNumber: 4, entries: 2 });
    expect(embedded.registry.current.model(keyB.aaguid)).toMatchObject({ certifications: ['FIDO_CERTIFIED_L3'] });
    expect(embedded.registry.current.isCompromised(keyA.aaguid)).toBe(true);
    expect(await embedded.loader.load(await verify({ no: 5, entries: [] }))).toMatchObject({ stored: true });
    expect(await embedded.loader.refresh()).toBe(true);
    expect(embedded.registry.current.models()).toEqual([]);
  });
});
