import 'reflect-metadata';
import { readFileSync, statSync } from 'node:fs';
import { MetadataBlobError, verifyMetadataBlob } from '../src/authenticators/metadata-blob';
import { MetadataLoader } from '../src/authenticators/metadata-loader';
import { readMetadataTrust } from '../src/authenticators/metadata-settings';
import { MetadataStore } from '../src/authenticators/metadata-store';
import { ModelRegistry } from '../src/authenticators/model-catalog';
import { ConfigError, loadConfig } from '../src/config/config';
import { loadDotEnv } from '../src/config/dotenv';
import { systemClock } from '../src/infra/clock';
import { createDataSource, detectMysqlFlavor } from '../src/infra/db/data-source';
import { Database } from '../src/infra/db/database';
import { createLogger } from '../src/infra/logger';
import { LIMITS } from '../src/limits';
import { DATABASE_SCHEMA } from '../src/modules';

const USAGE = `usage: npm run mds:load -- <file>

Verifies a FIDO Metadata Service blob (MDS3: the signed JWT FIDO publishes) and
stores it in the database of DATABASE_URL; every running instance uses it within
${LIMITS.metadataRefreshSeconds} seconds, without a restart.

It is verified as at start: its chain to FIDO_MDS_ROOT_CERT (default: GlobalSign
Root CA R3, built in), its signature, the revocation lists of FIDO_MDS_CRLS, and
its nextUpdate (refused when that passed more than FIDO_MDS_MAX_AGE_DAYS ago).
A blob whose number is lower than the loaded one's is refused.

  npm run mds:load -- ./blob.jwt
`;

/** Verification and storage of one blob; exit 0 stored (or already there), 1 refused, 2 misused. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [file, ...rest] = args;
  if (!file || rest.length > 0 || file.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  loadDotEnv();
  const config = loadConfig();
  if (config.database.kind !== 'mysql') {
    process.stderr.write(
      'npm run mds:load stores the blob in the shared database: set DATABASE_URL=mysql://user:password@host:3306/db.\n' +
        'The embedded default (SQLite, one process) reads its blob at start: set FIDO_MDS_BLOB_FILE and restart.\n',
    );
    return 2;
  }
  const trust = readMetadataTrust(config.metadataService);
  if (statSync(file).size > LIMITS.metadataBlobMaxBytes) {
    process.stderr.write(`${file}: larger than ${LIMITS.metadataBlobMaxBytes} bytes: not a Metadata Service blob\n`);
    return 1;
  }
  let blob;
  try {
    blob = await verifyMetadataBlob(readFileSync(file, 'utf8'), trust, systemClock.now());
  } catch (error) {
    if (!(error instanceof MetadataBlobError)) throw error;
    process.stderr.write(`${file}: the Metadata Service blob is refused: ${error.message}\n`);
    return 1;
  }
  for (const warning of blob.warnings) process.stderr.write(`warning: ${warning}\n`);

  const dataSource = createDataSource(config.database, DATABASE_SCHEMA, {
    flavor: await detectMysqlFlavor(config.database.url),
  });
  await dataSource.initialize();
  try {
    const loader = new MetadataLoader({
      store: new MetadataStore(new Database(dataSource)),
      registry: new ModelRegistry(),
      clock: systemClock,
      logger: createLogger('silent'),
    });
    const outcome = await loader.load(blob);
    if (outcome.stored) {
      process.stdout.write(
        `loaded blob no. ${blob.no} (next update ${blob.nextUpdate.toISOString().slice(0, 10)}, ${blob.entries} entries, ` +
          `${blob.models.length} models): every instance uses it within ${LIMITS.metadataRefreshSeconds} seconds\n`,
      );
      return 0;
    }
    if (outcome.reason === 'same') {
      process.stdout.write(`blob no. ${blob.no} is already loaded: nothing to do\n`);
      return 0;
    }
    process.stderr.write(
      `${file}: blob no. ${blob.no} is older than the loaded blob no. ${outcome.current}: refused (a blob never goes back to an earlier one)\n`,
    );
    return 1;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`npm run mds:load failed: ${(error as NodeJS.ErrnoException)?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
