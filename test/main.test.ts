import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

/** `node dist/src/main.js` in a folder of its own (its ./data, its .env), on a free port. */
function start(
  cwd: string,
  env: Record<string, string>,
  nodeOptions: string[] = [],
): Promise<{ child: ChildProcess; stdout: () => string }> {
  const child = spawn(process.execPath, [...nodeOptions, MAIN], {
    cwd,
    env: { PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: 'true', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${stdout}${stderr}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      // The banner is written directly, the log line through pino's stream: wait for both, in either order.
      if (/Development token: \S+\n[\s\S]*\n\n/.test(stdout) && /"msg":"listening"/.test(stdout)) {
        clearTimeout(timer);
        resolve({ child, stdout: () => stdout });
      }
    });
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${stdout}${stderr}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });

describe('the process entry in development', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tf-main-'));
  let child: ChildProcess;
  let stdout: string;
  let lines: any[];
  beforeAll(async () => {
    // .env fills what the environment leaves unset, and never overrides it.
    writeFileSync(join(cwd, '.env'), 'METRICS_PORT=0\nSMS_PROVIDER=sns\n# a comment\n');
    const started = await start(cwd, { SMS_PROVIDER: 'log' });
    child = started.child;
    stdout = started.stdout();
    lines = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  });
  afterAll(async () => {
    if (child) expect(await stop(child)).toBe(0);
  });

  it('logs JSON when its output is not a terminal, and one "listening" line', () => {
    const listening = lines.filter((line) => /listening/i.test(line.msg));
    expect(listening).toEqual([
      expect.objectContaining({ msg: 'listening', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/) }),
    ]);
  });

  it('reads .env for what the environment does not set', () => {
    const [listening] = lines.filter((line) => line.msg === 'listening');
    expect(listening.sms).toBe('log');
    expect(new URL(listening.metrics).port).not.toBe(new URL(listening.url).port);
  });

  it('prints a banner that says how to get a fresh auth_time', () => {
    expect(stdout).toMatch(/Development token: \S+/);
    expect(stdout).toContain('REAUTHENTICATION_REQUIRED');
    expect(stdout).toContain('npm run -s token -- dev-user');
  });

  it('opens Sandbox with the development token and an example operation', async () => {
    const [listening] = lines.filter((line) => line.msg === 'listening');
    const token = /Development token: (\S+)/.exec(stdout)![1];
    const page = await (await fetch(listening.url, { headers: { accept: 'text/html' } })).text();
    expect(page).toContain(`Bearer ${token}`);
    expect(page).toContain('query Me');
  });

  it('answers GET / with a pointer to /graphql', async () => {
    const [listening] = lines.filter((line) => line.msg === 'listening');
    const root = await fetch(new URL('/', listening.url));
    expect(root.status).toBe(200);
    expect((await root.json()).graphql).toBe('/graphql');
  });
});

/**
 * Loaded before main.js (`--require`): on SIGUSR2 it makes the fault FAULT names
 * happen inside the running service, as a bug would.
 */
const FAULTS = `
process.on('SIGUSR2', () => {
  if (process.env.FAULT === 'rejection') Promise.reject(new Error('a promise nobody awaited'));
  else setImmediate(() => { throw new Error('a throw nobody caught'); });
});
`;

/** The exit code, once the child's output is read to its end too ('close', not 'exit'). */
const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.removeAllListeners('exit');
    child.on('close', (code) => resolve(code));
  });

describe.each([
  ['an unhandled rejection', 'rejection', 'unhandled rejection', 'a promise nobody awaited'],
  ['an uncaught exception', 'exception', 'uncaught exception', 'a throw nobody caught'],
])('the process after %s', (_name, fault, msg, message) => {
  const cwd = mkdtempSync(join(tmpdir(), 'tf-main-fault-'));
  let child: ChildProcess;
  let stdout: () => string;
  beforeAll(async () => {
    writeFileSync(join(cwd, 'faults.js'), FAULTS);
    ({ child, stdout } = await start(cwd, { FAULT: fault }, ['--require', join(cwd, 'faults.js')]));
  });
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('logs it at fatal, shuts down gracefully and exits non-zero, for its supervisor to restart it', async () => {
    const exit = exited(child);
    child.kill('SIGUSR2');
    const code = await exit;
    const lines = stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 60, msg, err: expect.objectContaining({ message }) }),
    );
    // The graceful part ran (lines may reach the pipe out of order: pino writes fatal apart).
    expect(lines).toContainEqual(expect.objectContaining({ msg: expect.stringMatching(/shutting down/), reason: msg }));
    expect(code).toBe(1);
  });
});
