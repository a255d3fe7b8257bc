import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { MYSQL_ROOT_URL, REDIS_URL } from './services';

/** Fails the run early, with a clear message, when MariaDB or Redis is not there. */
export default async function globalSetup(): Promise<void> {
  const connection = await createConnection({ uri: `${MYSQL_ROOT_URL}/test`, connectTimeout: 5_000 }).catch(
    (error: Error) => {
      throw new Error(`tests need MariaDB at ${MYSQL_ROOT_URL} (run scripts/setup.sh): ${error.message}`);
    },
  );
  // Databases left by runs that were killed (names carry their creation time; runs in parallel keep theirs).
  const [rows] = await connection.query<any[]>("SHOW DATABASES LIKE 'tf\\_t\\_%'");
  const anHourAgo = Math.floor(Date.now() / 1000) - 3600;
  for (const row of rows) {
    const name = String(Object.values(row)[0]);
    const created = Number(/^tf_t_(\d+)_/.exec(name)?.[1] ?? 0);
    if (created < anHourAgo) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  }
  await connection.end();
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await redis.connect().catch((error: Error) => {
    throw new Error(`tests need Redis at ${REDIS_URL} (run scripts/setup.sh): ${error.message}`);
  });
  await redis.quit();
}
