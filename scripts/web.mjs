// `npm run web`: the service (embedded default) and the reference web client
// (web/: its pages and its backend-for-frontend) together, on 127.0.0.1; the
// browser opens http://localhost:WEB_PORT (localhost, not 127.0.0.1: security keys
// are registered for localhost in development). Builds both first; installs web/'s
// packages when they are missing. `node scripts/web.mjs --build` only builds web/
// (npm test's pretest runs it); `--no-build` starts what is built.
// The address to open is printed once, last: after the service's token block and
// the demo organization's seeding, when the web server says it is ready.
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

if (!process.argv.includes('--no-build')) {
  if (!existsSync(join(web, 'node_modules'))) {
    console.log("web: installing web/'s packages (npm ci)");
    run(['ci', '--no-audit', '--no-fund'], web);
  }
  if (!process.argv.includes('--build')) run(['run', '-s', 'build'], root);
  run(['run', '-s', 'build'], web);
  if (process.argv.includes('--build')) process.exit(0);
}

const children = [];
let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
function start(script, cwd, env, stdio = 'inherit') {
  const child = spawn(process.execPath, [script], { cwd, env: { ...process.env, ...env }, stdio });
  child.on('exit', (code) => stop(code ?? 1));
  children.push(child);
  return child;
}

// The service trusts one proxy (the web server), which passes each browser's address on.
start('dist/src/main.js', root, { PORT: port, WEB_PORT: webPort, TRUST_PROXY: process.env.TRUST_PROXY || '1' });
// With an IPC channel the web server prints no address of its own: it says when it is
// ready (listening, the demo organization seeded or not), and this prints the address.
const webServer = start(
  'dist-server/main.js',
  web,
  { PORT: port, WEB_PORT: webPort, DATA_DIR: resolve(root, process.env.DATA_DIR || 'data') },
  ['inherit', 'inherit', 'inherit', 'ipc'],
);
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));

const url = await new Promise((resolve) => {
  webServer.on('message', (message) => {
    if (message && typeof message.ready === 'string') resolve(message.ready);
  });
  webServer.on('exit', () => resolve(null));
});
// The service prints its token block as it starts listening: once it answers, that block is out.
let serviceUp = false;
for (let i = 0; i < 120 && url && !stopping && !serviceUp; i++) {
  serviceUp = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    (response) => response.ok,
    () => false,
  );
  if (!serviceUp) await new Promise((done) => setTimeout(done, 500));
}
if (url && serviceUp && !stopping) {
  const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text);
  const rule = `  ${'─'.repeat(72)}`;
  console.log(
    [
      '',
      rule,
      `  ${bold(`Open ${url}`)}`,
      '',
      '  Sign in with any user id and the password demo; demo-owner owns the organization',
      '  "Demo", demo-member-1 to demo-member-30 are its members. SMS codes appear in the log here.',
      `  The service: http://127.0.0.1:${port}/graphql (its token above). Ctrl+C stops both.`,
      rule,
      '',
    ].join('\n'),
  );
}
