import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { TestAuthenticatorModel, TestMetadataService } from '../support/metadata-ca';
import { createTestDatabase, startTestApp, type TestApp } from '../support/test-app';

const SCRIPT = join(__dirname, '..', '..', 'dist', 'scripts', 'mds-load.js');
const MODELS = '{ authenticatorModels { totalCount edges { node { aaguid name compromised } } } }';
const DAY_MS = 86_400_000;

/** `npm run mds:load -- <file>` runs this: dist/scripts/mds-load.js. */
function mdsLoad(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [SCRIPT, ...args], {
    env: { PATH: process.env.PATH, DATA_DIR: '/tmp/tf-test-data-mds-load', ...env },
    encoding: 'utf8',
  });
}

describe('npm run mds:load', () => {
  let mds: TestMetadataService;
  let key: TestAuthenticatorModel;
  let first: TestApp;
  let second: TestApp;
  let database: { url: string; drop(): Promise<void> };
  let env: Record<string, string>;

  beforeAll(async () => {
    mds = await TestMetadataService.create();
    key = await TestAuthenticatorModel.create('Loaded Key');
    database = await createTestDatabase();
    // Two instances of one deployment, neither given a blob; they check for a new one when their background work runs.
    first = await startTestApp({ databaseUrl: database.url, env: mds.env(), manualBackgroundWork: true });
    second = await startTestApp({ databaseUrl: database.url, env: mds.env(), manualBackgroundWork: true });
    env = { DATABASE_URL: database.url, FIDO_MDS_ROOT_CERT: mds.rootFile() };
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
  });

  const models = async (service: TestApp) =>
    (await service.gql(MODELS, {}, await service.token('alice'))).data.authenticatorModels;

  it('prints its usage without a file', () => {
    const { status, stderr } = mdsLoad([], env);
    expect(status).toBe(2);
    expect(stderr).toMatch(/usage: npm run mds:load -- <file>/);
  });

  it('needs the shared database: the embedded default reads FIDO_MDS_BLOB_FILE at start', () => {
    const { status, stderr } = mdsLoad([mds.file('x.jwt', 'x')], { FIDO_MDS_ROOT_CERT: mds.rootFile() });
    expect(status).toBe(2);
    expect(stderr).toMatch(/DATABASE_URL/);
    expect(stderr).toMatch(/FIDO_MDS_BLOB_FILE/);
  });

  it('loads a verified blob that every running instance uses from its next check, without a restart', async () => {
    const file = mds.file('blob-1.jwt', await mds.sign({ no: 1, entries: [key.entry()] }));
    const loaded = mdsLoad([file], env);
    expect({ status: loaded.status, stderr: loaded.stderr }).toEqual({ status: 0, stderr: '' });
    expect(loaded.stdout).toMatch(/loaded blob no\. 1 .*1 entr/);
    expect(await models(second)).toMatchObject({ totalCount: 0 });

    await second.app.runBackgroundJobs();
    expect(await models(second)).toEqual({
      totalCount: 1,
      edges: [{ node: { aaguid: key.aaguid, name: 'Loaded Key', compromised: false } }],
    });

    // A compromise report in the next blob: both instances count the model compromised from their next check.
    const next = mds.file(
      'blob-2.jwt',
      await mds.sign({ no: 2, entries: [key.entry(['FIDO_CERTIFIED_L1', 'USER_KEY_REMOTE_COMPROMISE'])] }),
    );
    expect(mdsLoad([next], env).status).toBe(0);
    await Promise.all([first.app.runBackgroundJobs(), second.app.runBackgroundJobs()]);
    for (const service of [first, second]) {
      expect((await models(service)).edges).toEqual([{ node: expect.objectContaining({ compromised: true }) }]);
    }
  });

  it.each([
    [
      'stale',
      () => mds.sign({ no: 10, nextUpdate: new Date(Date.now() - 61 * DAY_MS), entries: [] }),
      /FIDO_MDS_MAX_AGE_DAYS/,
    ],
    ['tampered', async () => `${await mds.sign({ no: 11, entries: [] })}A`, /signature/],
    [
      'from another root',
      async () => (await TestMetadataService.create()).sign({ no: 12, entries: [] }),
      /trusted root/,
    ],
    ['older than the one loaded', () => mds.sign({ no: 1, entries: [] }), /older than the loaded blob no\. 2/],
  ])('refuses a blob %s, saying why, and changes nothing', async (_, blob, why) => {
    const { status, stdout, stderr } = mdsLoad([mds.file('refused.jwt', await blob())], env);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(why);
    await second.app.runBackgroundJobs();
    expect(await models(second)).toMatchObject({ totalCount: 1 });
  });

  it('takes the blob already loaded as done', async () => {
    const same = mds.file('same.jwt', await mds.sign({ no: 2, entries: [] }));
    const { status, stdout } = mdsLoad([same], env);
    expect(status).toBe(0);
    expect(stdout).toMatch(/already loaded/);
  });
});

describe('the process entry with a blob that does not verify', () => {
  it('refuses to start as for a configuration error (exit 78), naming the setting and why', async () => {
    const mds = await TestMetadataService.create();
    const stale = mds.file(
      'stale.jwt',
      await mds.sign({ no: 1, nextUpdate: new Date(Date.now() - 61 * DAY_MS), entries: [] }),
    );
    const { status, stderr } = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'src', 'main.js')], {
      cwd: mds.folder,
      env: {
        PATH: process.env.PATH,
        AWS_EC2_METADATA_DISABLED: 'true',
        PORT: '0',
        FIDO_MDS_ROOT_CERT: mds.rootFile(),
        FIDO_MDS_BLOB_FILE: stale,
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(status).toBe(78);
    expect(stderr).toMatch(/refusing to start/);
    expect(stderr).toMatch(/FIDO_MDS_BLOB_FILE: .*stale\.jwt.*FIDO_MDS_MAX_AGE_DAYS/);
  });
});
