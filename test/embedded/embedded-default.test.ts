import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Boots `node dist/src/main.js` with no settings but a data folder and a port, as `npm start` does. */
function start(dataDir: string, port: number): Promise<{ child: ChildProcess; token: string }> {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: String(port), AWS_EC2_METADATA_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Development token: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, token: match[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the embedded default (no settings at all)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-embedded-'));
  const port = 4600 + (process.pid % 300);

  it('serves /graphql and Sandbox on SQLite and an in-process store, and keeps data readable across a restart', async () => {
    const first = await start(dataDir, port);
    try {
      const me = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.token}` },
        body: JSON.stringify({ query: '{ me { id twoFactor { enabled methods } } }' }),
      });
      expect(await me.json()).toEqual({ data: { me: { id: 'dev-user', twoFactor: { enabled: false, methods: [] } } } });
      const sandbox = await fetch(`http://127.0.0.1:${port}/graphql`, { headers: { accept: 'text/html' } });
      expect(await sandbox.text()).toContain('sandbox');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      expect(await stop(first.child)).toBe(0);
    }

    const second = await start(dataDir, port);
    try {
      // The first start's token still works: the development key was kept under the data folder.
      const me = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.token}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      expect((await me.json()).data.me.id).toBe('dev-user');
    } finally {
      await stop(second.child);
    }
  });
});
