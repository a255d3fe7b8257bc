import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';

const ROOT = join(__dirname, '..', '..');
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

/** `npm run -s webhook-receiver -- ...` runs this; resolves once it says it listens. */
function start(args: string[]): Promise<{ child: ChildProcess; url: string; lines: () => string[] }> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'webhook-receiver.mjs'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const listening = /^listening on (http:\/\/\S+)$/m.exec(stderr);
      if (listening) resolve({ child, url: listening[1], lines: () => stdout.split('\n').filter(Boolean) });
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
}

const post = (url: string, body: string, headers: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('npm run -s webhook-receiver (scripts/webhook-receiver.mjs)', () => {
  it('prints each delivery whose Standard Webhooks signature verifies, refuses the others, stops on SIGTERM', async () => {
    const receiver = await start(['--secret', SECRET, '--port', '0']);
    try {
      const body = JSON.stringify({
        type: 'factor.removed',
        timestamp: '2026-12-02T04:53:24.993Z',
        data: { userId: 'gus' },
      });
      const now = new Date();
      const signature = new Webhook(SECRET).sign('msg_1', now, body);
      const headers = {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': signature,
      };
      expect((await post(`${receiver.url}twofactor`, body, headers)).status).toBe(204);
      expect((await post(receiver.url, body, { ...headers, 'webhook-signature': 'v1,AAAA' })).status).toBe(400);
      expect((await fetch(receiver.url)).status).toBe(405);
      const [delivered, refused] = receiver.lines().map((line) => JSON.parse(line));
      expect(delivered).toEqual({
        'webhook-id': 'msg_1',
        'webhook-timestamp': Number(headers['webhook-timestamp']),
        event: JSON.parse(body),
      });
      expect(refused).toMatchObject({ 'webhook-id': 'msg_1', refused: expect.any(String) });
      expect(receiver.lines()).toHaveLength(2);
    } finally {
      const exited = new Promise((resolve) => receiver.child.once('exit', resolve));
      receiver.child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('answers the status it is told to', async () => {
    const receiver = await start(['--secret', SECRET, '--port', '0', '--status', '410']);
    try {
      const body = '{"type":"login.failed"}';
      const now = new Date();
      const response = await post(receiver.url, body, {
        'webhook-id': 'msg_2',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(SECRET).sign('msg_2', now, body),
      });
      expect(response.status).toBe(410);
    } finally {
      receiver.child.kill('SIGTERM');
    }
  });

  it('refuses to start without a secret', async () => {
    await expect(start(['--port', '0'])).rejects.toThrow(/exited 2: --secret/);
  });
});
