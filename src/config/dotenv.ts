import { existsSync } from 'node:fs';

/**
 * Reads `.env` in the working folder when there is one (see `.env.example`), for
 * the service and the npm scripts alike. Variables already set in the environment
 * win over the file.
 */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
