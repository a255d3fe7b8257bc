import 'reflect-metadata';
import { loadConfig } from './src/config/config';
import { createDataSource } from './src/infra/db/data-source';

/**
 * The TypeORM DataSource for the CLI (`npm run migration:generate`, which runs on
 * dist/): the same factory the app uses, from the same environment. The CLI needs
 * it synchronously, so the server flavor is named (DATABASE_FLAVOR, default
 * mariadb as on these machines) where the app asks the server.
 */
export default createDataSource(
  loadConfig(process.env).database,
  process.env.DATABASE_FLAVOR === 'mysql' ? 'mysql' : 'mariadb',
);
