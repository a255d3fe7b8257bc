import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';

const TOKEN_SCRIPT = join(__dirname, '..', '..', 'dist', 'scripts', 'token.js');

/** `npm run -s token -- ...` runs this: dist/scripts/token.js, from the project folder. */
function token(args: string[], env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tf-token-'));
  const result = spawnSync(process.execPath, [TOKEN_SCRIPT, ...args], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, ...env },
    encoding: 'utf8',
  });
  return { ...result, dataDir };
}

describe('npm run -s token', () => {
  it('prints the token alone, signed with the development key, signed in now', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, stdout, stderr, dataDir } = token(['alice', 'twofactor:read']);
    expect(status).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const keys = JSON.parse(readFileSync(join(dataDir, 'development-keys.json'), 'utf8'));
    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(keys.authJwtSecret), {
      algorithms: ['HS256'],
    });
    expect(payload).toMatchObject({ sub: 'alice', scope: 'twofactor:read' });
    expect(payload.auth_time).toBeGreaterThanOrEqual(before);
  });

  it('signs a sign-in that long ago with --signed-in-ago <seconds>, for trying REAUTHENTICATION_REQUIRED', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, stdout, stderr, dataDir } = token(['alice', '--signed-in-ago', '1200', 'twofactor:read']);
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    const keys = JSON.parse(readFileSync(join(dataDir, 'development-keys.json'), 'utf8'));
    const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(keys.authJwtSecret), {
      algorithms: ['HS256'],
    });
    expect(payload).toMatchObject({ sub: 'alice', scope: 'twofactor:read' });
    expect(payload.auth_time).toBeGreaterThanOrEqual(before - 1200);
    expect(payload.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - 1200);
    for (const bad of [[], ['-5'], ['soon']]) {
      const refused = token(['alice', '--signed-in-ago', ...bad]);
      expect(refused.status).toBe(2);
      expect(refused.stdout).toBe('');
    }
  });

  it.each([['--help'], ['-h']])('prints usage for %s instead of minting a token', (flag) => {
    const { status, stdout } = token([flag]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^usage: npm run -s token -- <userId> \[scope \.\.\.\]/);
    expect(stdout).toContain('twofactor:directory');
  });

  it('refuses an unknown scope, listing the valid ones, with nothing on stdout', () => {
    const { status, stdout, stderr } = token(['alice', 'twofactor:reed']);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown scope: twofactor:reed');
    expect(stderr).toContain('twofactor:read twofactor:login twofactor:directory twofactor:admin');
  });

  it('refuses no user id, or one that looks like an option', () => {
    for (const args of [[], ['--user'], ['a b']]) {
      const { status, stdout } = token(args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
    }
  });

  it.each([['twofactor:read'], ['twofactor:admin', 'alice'], ['twofactor:whatever']])(
    'refuses a first argument that is a scope (%s ...): the user id comes first, and nothing is minted',
    (...args) => {
      const { status, stdout, stderr } = token(args);
      expect(status).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(`${args[0]} is a scope, not a user id: give the user id first`);
      expect(stderr).toContain(`npm run -s token -- <userId> ${args[0]}`);
    },
  );

  it.each([['--help'], ['alice']])(
    'stops quietly when the reader goes away (npm run -s token -- %s | head -c 1)',
    async (arg) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'tf-token-pipe-'));
      const child = spawn(process.execPath, [TOKEN_SCRIPT, arg], {
        cwd: dataDir,
        env: { PATH: process.env.PATH, DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // The reader is gone before the script writes: its first write meets EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      expect(stderr).toBe('');
      expect(status).toBe(0);
    },
  );

  it('signs with AUTH_JWT_SECRET from .env when the environment has none', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tf-token-env-'));
    const secret = 'a-secret-from-dot-env-0123456789abcdef';
    writeFileSync(join(dataDir, '.env'), `AUTH_JWT_SECRET=${secret}\n`);
    const result = spawnSync(process.execPath, [TOKEN_SCRIPT, 'bob'], {
      cwd: dataDir,
      env: { PATH: process.env.PATH, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    await expect(
      jwtVerify(result.stdout.trim(), new TextEncoder().encode(secret), { algorithms: ['HS256'] }),
    ).resolves.toBeDefined();
  });
});
