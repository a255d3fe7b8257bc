// `npm run dev`: the TypeScript compiler in watch mode (tsc keeps emitting the
// decorator metadata type-graphql and TypeORM read), and the service restarted by
// `node --watch` whenever a rebuild changes dist/. Node starts once the first
// compilation is written. No dependency beyond typescript.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const children = [];
let stopping = false;

const compiler = spawn(process.execPath, [tsc, '-p', 'tsconfig.json', '--watch', '--preserveWatchOutput'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(compiler);

let service;
compiler.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // "Found 0 errors. Watching for file changes." ends each compilation.
  if (!service && /Watching for file changes/.test(chunk.toString())) {
    service = spawn(process.execPath, ['--watch', '--watch-preserve-output', 'dist/src/main.js'], { stdio: 'inherit' });
    children.push(service);
    service.on('exit', (code) => stop(code ?? 1));
  }
});
compiler.on('exit', (code) => stop(code ?? 1));

function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));
