import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevelopmentKeys {
  authJwtSecret: string;
  assertionJwtSecret: string;
  encryptionKey: string;
}

/**
 * Keys for the embedded default: made on first start and kept under the data
 * folder, so a restart can still read what it encrypted and accept its tokens.
 * Never used in production (configuration refuses to start without real keys).
 */
export function loadOrCreateDevelopmentKeys(dataDir: string): DevelopmentKeys {
  const file = join(dataDir, 'development-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevelopmentKeys;
  mkdirSync(dataDir, { recursive: true });
  const keys: DevelopmentKeys = {
    authJwtSecret: randomBytes(32).toString('base64url'),
    assertionJwtSecret: randomBytes(32).toString('base64url'),
    encryptionKey: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return keys;
}
