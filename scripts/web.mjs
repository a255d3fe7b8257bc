// `npm run web`: the service (embedded default) and the reference web client
// (web/: its pages and its backend-for-frontend) together, on 127.0.0.1; the
// browser opens http://localhost:WEB_PORT (localhost, not 127.0.0.1: security keys
// are registered for localhost in development). Builds both first; installs web/'s
// packages when they are missing. `node scripts/web.mjs --build` only builds web/
// (npm test's pretest runs it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const web = join(root, 'web');
const port = process.env.PORT || '4000';
const webPort = process.env.WEB_PORT || '5173';
// npm as this npm run started it (on the project's Node), or the one on PATH.
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];

function run(args, cwd) {
  const result = spawnSync(npm[0], [...npm.slice(1), ...args], { cwd, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (!existsSync(join(web, 'node_modules'))) {
  console.log("web: installing web/'s packages (npm ci)");
  run(['ci', '--no-audit', '--no-fund'], web);
}
if (!process.argv.includes('--build')) run(['run', '-s', 'build'], root);
run(['run', '-s', 'build'], web);
if (process.argv.includes('--build')) process.exit(0);

const children = [];
let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
function start(script, cwd, env) {
  const child = spawn(process.execPath, [script], { cwd, env: { ...process.env, ...env }, stdio: 'inherit' });
  child.on('exit', (code) => stop(code ?? 1));
  children.push(child);
}

// The service trusts one proxy (the web server), which passes each browser's address on.
start('dist/src/main.js', root, { PORT: port, WEB_PORT: webPort, TRUST_PROXY: process.env.TRUST_PROXY || '1' });
start('dist-server/main.js', web, {
  PORT: port,
  WEB_PORT: webPort,
  DATA_DIR: resolve(root, process.env.DATA_DIR || 'data'),
});
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));

for (let i = 0; i < 120 && !stopping; i++) {
  const up = await fetch(`http://127.0.0.1:${webPort}/healthz`).then(
    (response) => response.ok,
    () => false,
  );
  if (up) {
    console.log(
      `\n  Open http://localhost:${webPort}   (sign in with any user id and the password demo;` +
        `\n  demo-owner owns the organization "Demo", demo-member-1 to demo-member-30 are its members)` +
        `\n  The service: http://127.0.0.1:${port}/graphql. Ctrl+C stops both.\n`,
    );
    break;
  }
  await new Promise((done) => setTimeout(done, 500));
}
