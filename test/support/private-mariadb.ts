import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';

const run = promisify(execFile);

/**
 * A mariadbd of the test's own: its own data folder under /tmp and its own
 * loopback port. Tests kill and restart it; the shared MariaDB is never touched.
 */
export class PrivateMariaDb {
  readonly dir = mkdtempSync(join(tmpdir(), 'tf-mariadb-'));
  private process?: ChildProcess;

  constructor(readonly port: number) {}

  /** Root over TCP, no password (the server runs with --skip-grant-tables). */
  get rootUrl(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Creates the data folder (once). */
  async install(): Promise<void> {
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        '--user=root',
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { timeout: 60_000 },
    );
  }

  /** Starts mariadbd on the data folder and waits until it answers. */
  async start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--port=${this.port}`,
        `--socket=${join(this.dir, 'sock')}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        `--log-error=${join(this.dir, 'error.log')}`,
        `--tmpdir=${this.dir}`,
        '--bind-address=127.0.0.1',
        '--skip-grant-tables',
        '--skip-name-resolve',
        '--user=root',
        '--innodb-buffer-pool-size=64M',
      ],
      { stdio: 'ignore' },
    );
    // Never outlive the test process, even when a test fails before its cleanup.
    process.once('exit', () => child.kill('SIGKILL'));
    this.process = child;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`mariadbd on ${this.port} exited:\n${this.errorLog()}`);
      try {
        const connection = await createConnection({ uri: `${this.rootUrl}/mysql`, connectTimeout: 1_000 });
        await connection.query('SELECT 1');
        await connection.end();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`mariadbd on ${this.port} did not answer within ${timeoutMs} ms:\n${this.errorLog()}`);
  }

  /** SIGKILL: the server vanishes mid-whatever, as in a crash. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Kills the server and deletes its data folder. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no error log)';
    }
  }
}
