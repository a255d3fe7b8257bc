import 'reflect-metadata';
import { ConfigError } from '../../src/config/config';
import { TestAuthenticatorModel, TestMetadataService } from '../support/metadata-ca';
import { errorCode, startTestApp, type TestApp } from '../support/test-app';

const MODELS = `query($search: String, $first: Int, $after: String) {
  authenticatorModels(search: $search, first: $first, after: $after) {
    totalCount
    edges { cursor node { aaguid name certifications compromised } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const STATUS = '{ metadataServiceStatus { blobNumber nextUpdate loadedAt entries } }';
const DAY_MS = 86_400_000;

describe('authenticatorModels and metadataServiceStatus', () => {
  describe('with no blob loaded', () => {
    let service: TestApp;
    beforeAll(async () => {
      service = await startTestApp();
    });
    afterAll(() => service?.close());

    it('lists no models, and says no blob is loaded', async () => {
      const models = await service.gql(MODELS, {}, await service.token('alice'));
      expect(models.errors).toBeUndefined();
      expect(models.data.authenticatorModels).toEqual({
        totalCount: 0,
        edges: [],
        pageInfo: { hasNextPage: false, endCursor: null },
      });
      const status = await service.gql(STATUS, {}, await service.token('ops', ['twofactor:admin']));
      expect(status.data.metadataServiceStatus).toEqual({
        blobNumber: null,
        nextUpdate: null,
        loadedAt: null,
        entries: 0,
      });
    });
  });

  describe('with the blob of FIDO_MDS_BLOB_FILE', () => {
    let service: TestApp;
    let mds: TestMetadataService;
    const keys: TestAuthenticatorModel[] = [];
    const nextUpdate = new Date(Date.now() + 25 * DAY_MS);

    beforeAll(async () => {
      mds = await TestMetadataService.create();
      for (const name of ['YubiKey 5 NFC', 'Feitian ePass', 'yubikey Bio', 'Titan Security Key']) {
        keys.push(await TestAuthenticatorModel.create(name));
      }
      const blob = await mds.sign({
        no: 42,
        nextUpdate,
        entries: [
          keys[0].entry(['FIDO_CERTIFIED', 'FIDO_CERTIFIED_L2']),
          keys[1].entry(['FIDO_CERTIFIED_L1', 'USER_VERIFICATION_BYPASS']),
          keys[2].entry(['FIDO_CERTIFIED_L1']),
          keys[3].entry([]),
        ],
      });
      service = await startTestApp({ env: mds.env(blob) });
    });
    afterAll(() => service?.close());

    it('lists the models by name, with certifications and compromise', async () => {
      const { data, errors } = await service.gql(MODELS, {}, await service.token('alice'));
      expect(errors).toBeUndefined();
      expect(data.authenticatorModels.totalCount).toBe(4);
      expect(data.authenticatorModels.edges.map((edge: any) => edge.node)).toEqual([
        { aaguid: keys[1].aaguid, name: 'Feitian ePass', certifications: ['FIDO_CERTIFIED_L1'], compromised: true },
        { aaguid: keys[3].aaguid, name: 'Titan Security Key', certifications: [], compromised: false },
        {
          aaguid: keys[0].aaguid,
          name: 'YubiKey 5 NFC',
          certifications: ['FIDO_CERTIFIED', 'FIDO_CERTIFIED_L2'],
          compromised: false,
        },
        { aaguid: keys[2].aaguid, name: 'yubikey Bio', certifications: ['FIDO_CERTIFIED_L1'], compromised: false },
      ]);
    });

    it('finds by a case-insensitive part of the name, a page at a time', async () => {
      const token = await service.token('alice');
      const first = await service.gql(MODELS, { search: 'YUBIKEY', first: 1 }, token);
      expect(first.data.authenticatorModels).toMatchObject({
        totalCount: 2,
        edges: [{ node: { name: 'YubiKey 5 NFC' } }],
        pageInfo: { hasNextPage: true },
      });
      const second = await service.gql(
        MODELS,
        { search: 'YUBIKEY', first: 1, after: first.data.authenticatorModels.pageInfo.endCursor },
        token,
      );
      expect(second.data.authenticatorModels).toMatchObject({
        totalCount: 2,
        edges: [{ node: { name: 'yubikey Bio' } }],
        pageInfo: { hasNextPage: false },
      });
      // A cursor of another search is refused, not misread.
      const mixed = await service.gql(
        MODELS,
        { search: 'titan', after: first.data.authenticatorModels.pageInfo.endCursor },
        token,
      );
      expect(errorCode(mixed)).toBe('BAD_USER_INPUT');
    });

    it('refuses a page size out of range and an overlong search', async () => {
      const token = await service.token('alice');
      for (const variables of [{ first: 0 }, { first: 101 }, { search: 'x'.repeat(101) }, { after: 'nonsense' }]) {
        const answer = await service.gql(MODELS, variables, token);
        expect({ variables, code: errorCode(answer) }).toEqual({ variables, code: 'BAD_USER_INPUT' });
      }
    });

    it('tells an admin which blob is loaded', async () => {
      const { data, errors } = await service.gql(STATUS, {}, await service.token('ops', ['twofactor:admin']));
      expect(errors).toBeUndefined();
      expect(data.metadataServiceStatus).toEqual({
        blobNumber: 42,
        nextUpdate: `${nextUpdate.toISOString().slice(0, 10)}T00:00:00.000Z`,
        loadedAt: service.clock.now().toISOString(),
        entries: 4,
      });
      const refused = await service.gql(STATUS, {}, await service.token('alice', ['twofactor:read']));
      expect(errorCode(refused)).toBe('FORBIDDEN');
    });
  });

  it('refuses to start on a blob that does not verify (a ConfigError naming FIDO_MDS_BLOB_FILE)', async () => {
    const mds = await TestMetadataService.create();
    const stale = await mds.sign({ no: 1, nextUpdate: new Date(Date.now() - 70 * DAY_MS), entries: [] });
    const refused = await startTestApp({ env: mds.env(stale) }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/FIDO_MDS_BLOB_FILE: .*FIDO_MDS_MAX_AGE_DAYS/);
  });
});
