import { generateKeyPairSync, randomBytes } from 'node:crypto';
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

/**
 * The Shared Signals transmitter's development signing key (EC P-256, PKCS#8
 * PEM): made on first start under the data folder, so receivers that fetched
 * its JWKS keep verifying after a restart. Production gives SSF_SIGNING_KEY.
 */
export function loadOrCreateSsfSigningKey(dataDir: string): string {
  const file = join(dataDir, 'ssf-signing-key.pem');
  if (existsSync(file)) return readFileSync(file, 'utf8');
  mkdirSync(dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process of the same data folder made it first: use its key.
    if ((error as { code?: string }).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw error;
  }
  return pem;
}
