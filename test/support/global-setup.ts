import { createConnection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { MYSQL_ROOT_URL, REDIS_URL } from './services';

/** Fails the run early, with a clear message, when MariaDB or Redis is not there. */
export default async function globalSetup(): Promise<void> {
  const connection = await createConnection({ uri: `${MYSQL_ROOT_URL}/test`, connectTimeout: 5_000 }).catch((error: Error) => {
    throw new Error(`tests need MariaDB at ${MYSQL_ROOT_URL} (run ../shared/services.sh): ${error.message}`);
  });
  // Databases left by runs that were killed.
  const [rows] = await connection.query<any[]>("SHOW DATABASES LIKE 'tf\\_t\\_%'");
  for (const row of rows) await connection.query(`DROP DATABASE IF EXISTS \`${Object.values(row)[0]}\``);
  await connection.end();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect().catch((error: Error) => {
    throw new Error(`tests need Redis at ${REDIS_URL} (run ../shared/services.sh): ${error.message}`);
  });
  await redis.quit();
}
