import 'reflect-metadata';
import { loadConfig } from './src/config/config';
import { loadDotEnv } from './src/config/dotenv';
import { createDataSource } from './src/infra/db/data-source';
import { DATABASE_SCHEMA } from './src/modules';

/**
 * The TypeORM DataSource for the CLI (`npm run migration:run`, `migration:generate`,
 * which run on dist/): the same factory the app uses, from the same environment
 * (and `.env`). The CLI needs it synchronously, so the server flavor is named
 * (DATABASE_FLAVOR, default mariadb as on these machines) where the app asks the server.
 */
loadDotEnv();
const database = loadConfig(process.env).database;
if (database.kind !== 'mysql') {
  // The embedded SQLite file brings its own schema up to date at start: nothing to migrate.
  process.stderr.write(
    'The migration commands work on MySQL/MariaDB: set DATABASE_URL=mysql://user:password@host:3306/db ' +
      '(in the environment or in .env), e.g.\n  DATABASE_URL=mysql://root@127.0.0.1:3306/twofactor npm run migration:run\n',
  );
  process.exit(2);
}

export default createDataSource(database, DATABASE_SCHEMA, {
  flavor: process.env.DATABASE_FLAVOR === 'mysql' ? 'mysql' : 'mariadb',
});
