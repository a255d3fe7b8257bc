import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real three-master Redis Cluster on loopback ports, in a temp folder of its
 * own (each node also uses port + 10000 for the cluster bus). `stop()` kills
 * every node and deletes the folder, whatever state `start()` got to.
 */
export class RedisCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'tf-redis-cluster-'));
  private readonly processes: ChildProcess[] = [];

  constructor(readonly ports: number[]) {}

  /** `host:port,host:port,...`, as REDIS_CLUSTER_NODES takes it. */
  get nodes(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  async start(): Promise<void> {
    for (const port of this.ports) {
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(this.dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--bind',
          '127.0.0.1',
          '--dir',
          this.dir,
        ],
        { stdio: 'ignore' },
      );
      // Never outlive the test process, even when a test fails before its cleanup.
      process.once('exit', () => child.kill('SIGKILL'));
      this.processes.push(child);
    }
    for (const port of this.ports)
      await this.waitFor(port, async () => (await this.cli(port, 'PING')) === 'PONG', 10_000);
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    for (const port of this.ports) {
      await this.waitFor(
        port,
        async () => (await this.cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        20_000,
      );
    }
  }

  /** One redis-cli command against one node; its output, trimmed. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
    return stdout.trim();
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitFor(port: number, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`redis cluster node ${port} not ready within ${timeoutMs} ms`);
  }
}
