import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDevelopmentToken } from '../../../src/callers/token-signer';
import { eventually } from '../../support/eventually';
import { REDIS_URL } from '../../support/services';
import { ASSERTION_SECRET, AUTH_SECRET, createTestDatabase, ENCRYPTION_KEY } from '../../support/test-app';

const ROOT = join(__dirname, '..', '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The built service (`node dist/src/main.js`, as `npm start` runs it: tracing is
 * started by its first import) on MariaDB and Redis, with the environment given;
 * its stdout (JSON log lines) kept. Build first (`npm run build`).
 */
export class TracedService {
  output = '';
  url = '';
  private child: ChildProcess | undefined;
  private dataDir = '';
  private database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

  static async start(env: Record<string, string>): Promise<TracedService> {
    const service = new TracedService();
    await service.boot(env);
    return service;
  }

  private async boot(env: Record<string, string>): Promise<void> {
    this.database = await createTestDatabase();
    this.dataDir = mkdtempSync(join(tmpdir(), 'tf-traced-'));
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: this.database.url,
        REDIS_URL,
        PORT: String(port),
        HOST: '127.0.0.1',
        AUTH_JWT_SECRET: AUTH_SECRET,
        ASSERTION_JWT_SECRET: ASSERTION_SECRET,
        AUTH_ISSUER: 'https://idp.test',
        AUTH_AUDIENCE: 'twofactor-test',
        ENCRYPTION_KEY,
        DATA_DIR: this.dataDir,
        IP_ATTEMPTS_PER_MINUTE: '1000000',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ACCESS_KEY_ID: 'test-access-key',
        AWS_SECRET_ACCESS_KEY: 'test-secret-key',
        AWS_REGION: 'us-east-1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = this.child;
    process.once('exit', () => child.kill('SIGKILL'));
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${this.output}`);
      return (await fetch(`${this.url}/readyz`)).ok;
    }, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.output}`);
    });
  }

  token(subject: string, scopes: string[] = []): Promise<string> {
    return signDevelopmentToken(AUTH_SECRET, subject, scopes, {
      issuer: 'https://idp.test',
      audience: 'twofactor-test',
      authTime: new Date(),
    });
  }

  async gql(
    query: string,
    variables: Record<string, unknown>,
    token?: string,
    headers: Record<string, string> = {},
  ): Promise<{ data: any; errors?: any[] }> {
    const response = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data: any; errors?: any[] };
  }

  /** The service's JSON log lines. */
  lines(): Record<string, unknown>[] {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** SIGTERM, as a supervisor stops it: it flushes its spans and exits. */
  async stop(): Promise<number | null> {
    const child = this.child;
    let code: number | null = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      code = await new Promise<number | null>((resolve) => {
        child.once('exit', (exitCode) => resolve(exitCode));
        child.kill('SIGTERM');
      });
    }
    await this.database?.drop();
    rmSync(this.dataDir, { recursive: true, force: true });
    return code ?? child?.exitCode ?? null;
  }
}
