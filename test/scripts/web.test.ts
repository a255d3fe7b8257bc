import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

jest.setTimeout(90_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** How often `needle` occurs in `text`. */
const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('npm run web', () => {
  it('prints the address to open once, last: after the service’s token block and the demo seed', async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'main.js')) || !existsSync(join(ROOT, 'web', 'dist-server', 'main.js'))) {
      throw new Error('not built: npm test builds the service and the web client first (npm run build, build:web)');
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'tf-npm-web-'));
    const [port, webPort] = [await freePort(), await freePort()];
    // One pipe for stdout and stderr, so the output reads in the order it was written.
    const child = spawn('sh', ['-c', `exec "${process.execPath}" scripts/web.mjs --no-build 2>&1`], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        WEB_PORT: String(webPort),
        DATA_DIR: dataDir,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ctrl+C stops both')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`npm run web exited with ${code}:\n${output}`)));
      });
      const address = `http://localhost:${webPort}`;
      expect(count(output, address)).toBe(1);
      const open = output.indexOf(`Open ${address}`);
      expect(open).toBeGreaterThan(output.indexOf('Development token:'));
      expect(output.indexOf('Development token:')).toBeGreaterThan(-1);
      expect(open).toBeGreaterThan(output.indexOf('demo organization demo-org'));
      expect(output.indexOf('demo organization demo-org')).toBeGreaterThan(-1);
    } finally {
      child.kill('SIGTERM');
      await closed;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
