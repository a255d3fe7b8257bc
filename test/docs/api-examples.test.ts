import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually } from '../support/eventually';
import {
  differenceOf,
  examplesOf,
  formatted,
  merged,
  mergedText,
  textDifference,
  valuesOf,
  type Difference,
  type Example,
  type Moments,
} from './api-page';

/**
 * docs/api.md runs: a fresh embedded default (as `npm start` serves it, with
 * the webhook chapter's WEBHOOK_ALLOW_PRIVATE_NETWORKS=true), then every ```sh
 * block of the page in order in one bash session, each printed answer compared
 * with the block the page shows after it (placeholders as the page's top says).
 *
 * The session works in a folder of its own that looks like the repository's root
 * (package.json, node_modules, dist and scripts linked in), so the page's
 * `npm run` commands, ./data, service.log and the files it writes are this run's,
 * and no developer's .env or ./data is read.
 *
 * To rewrite the answers the page shows from what the service answers now
 * (placeholders kept where they still fit): UPDATE_API_DOCS=1 npx jest test/docs
 */

const ROOT = join(__dirname, '..', '..');
const PAGE = join(ROOT, 'docs', 'api.md');
const COMMAND_TIMEOUT_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** One bash process; each command's output goes to files, its end is a marker on bash's stdout. */
class Session {
  private readonly bash: ChildProcess;
  private stdout = '';
  private stderr = '';
  private readonly marker = `__done_${randomBytes(8).toString('hex')}__`;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    // Its own process group: the teardown ends it and whatever the page left running in it.
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.bash.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.waiting?.();
    });
    this.bash.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.bash.on('exit', () => this.waiting?.());
  }

  async run(script: string): Promise<{ stdout: string; stderr: string; status: number | 'timeout' }> {
    const out = join(this.cwd, '.example.out');
    const err = join(this.cwd, '.example.err');
    this.stdout = '';
    this.stderr = '';
    this.bash.stdin!.write(`{\n${script}\n} >'${out}' 2>'${err}' </dev/null\nprintf '%s %s\\n' ${this.marker} "$?"\n`);
    const done = new RegExp(`${this.marker} (\\d+)\\n`);
    const status = await new Promise<number | 'timeout'>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), COMMAND_TIMEOUT_MS);
      const check = () => {
        const match = done.exec(this.stdout);
        if (match || this.bash.exitCode !== null) {
          clearTimeout(timer);
          this.waiting = undefined;
          resolve(match ? Number(match[1]) : -1);
        }
      };
      this.waiting = check;
      check();
    });
    const read = (file: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    };
    return { stdout: read(out), stderr: read(err) + this.stderr, status };
  }

  close(): void {
    try {
      process.kill(-this.bash.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

interface Outcome {
  example: Example;
  problem?: string;
  /** The answer as the page would show it, when it differs. */
  rewrite?: string;
}

function explain(difference: Difference): string {
  const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  return `at ${difference.path}: ${difference.why}\n  the page shows:      ${show(difference.expected)}\n  the service printed: ${show(difference.actual)}`;
}

/** Compares what a command printed with the answer the page shows. */
function check(example: Example, printed: string, moments: Moments): Omit<Outcome, 'example'> {
  const { answer } = example;
  if (!answer) return printed.trim() ? { problem: 'printed this, and the page shows no answer', rewrite: printed } : {};
  if (answer.lang === 'text') {
    const difference = textDifference(answer.text, printed, moments);
    return difference ? { problem: explain(difference), rewrite: mergedText(answer.text, printed, moments) } : {};
  }
  let shown: unknown[];
  try {
    shown = valuesOf(answer.text);
  } catch (error) {
    return { problem: `the page's answer is not JSON: ${(error as Error).message}` };
  }
  let got: unknown[];
  try {
    got = valuesOf(printed);
  } catch (error) {
    return { problem: `the command did not print JSON: ${(error as Error).message}`, rewrite: printed };
  }
  const rewrite = () => formatted(got.map((value, index) => merged(shown[index], value, moments)));
  if (shown.length !== got.length)
    return { problem: `the page shows ${shown.length} answers, the command printed ${got.length}`, rewrite: rewrite() };
  for (let index = 0; index < shown.length; index += 1) {
    const difference = differenceOf(shown[index], got[index], moments);
    if (difference)
      return {
        problem: `${shown.length > 1 ? `answer ${index + 1} of ${shown.length}, ` : ''}${explain(difference)}`,
        rewrite: rewrite(),
      };
  }
  return {};
}

/** Writes the answers back into the page (from the bottom, so line numbers stay right). */
function rewritePage(page: string, outcomes: Outcome[]): string {
  const lines = page.split('\n');
  for (const { example, rewrite } of [...outcomes].reverse()) {
    if (rewrite === undefined) continue;
    const body = rewrite.replace(/\s+$/, '').split('\n');
    if (example.answer) lines.splice(example.answer.from, example.answer.to - example.answer.from, ...body);
    else {
      let isJson = true;
      try {
        valuesOf(rewrite);
      } catch {
        isJson = false;
      }
      lines.splice(example.command.to + 1, 0, `\`\`\`${isJson ? 'json' : 'text'}`, ...body, '```');
    }
  }
  return lines.join('\n');
}

describe('docs/api.md', () => {
  const page = readFileSync(PAGE, 'utf8');
  const examples = examplesOf(page);
  const work = mkdtempSync(join(tmpdir(), 'tf-api-docs-'));
  let service: ChildProcess | undefined;
  let session: Session | undefined;
  let log = '';
  let sessionStart = 0;

  beforeAll(async () => {
    sessionStart = Date.now();
    for (const name of ['package.json', 'node_modules', 'dist', 'scripts'])
      symlinkSync(join(ROOT, name), join(work, name));
    const [port, receiverPort] = [await freePort(), await freePort()];
    // Only what a developer's shell would have; jest's own settings (NODE_ENV=test...) stay out.
    const env: NodeJS.ProcessEnv = {
      PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
      HOME: process.env.HOME,
      TMPDIR: work,
      LANG: 'C.UTF-8',
      PORT: String(port),
      RECEIVER_PORT: String(receiverPort),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    log = join(work, 'service.log');
    const fd = openSync(log, 'a');
    service = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: work,
      env: { ...env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const exited = new Promise<never>((_, reject) =>
      service!.once('exit', (code) => reject(new Error(`the service exited (${code}):\n${readFileSync(log, 'utf8')}`))),
    );
    await Promise.race([exited, eventually(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000)]);
    exited.catch(() => undefined);
    session = new Session(work, env);
  }, 90_000);

  afterAll(async () => {
    session?.close();
    if (service && service.exitCode === null) {
      service.removeAllListeners('exit');
      await new Promise((resolve) => {
        service!.once('exit', resolve);
        service!.kill('SIGTERM');
      });
    }
    if (process.env.KEEP_API_DOCS_RUN !== '1') rmSync(work, { recursive: true, force: true });
  });

  it('answers every example as the page shows', async () => {
    expect(examples.length).toBeGreaterThan(80);
    const outcomes: Outcome[] = [];
    for (const example of examples) {
      const start = Date.now();
      const result = await session!.run(example.command.text);
      const moments = { session: sessionStart, start, end: Date.now() };
      if (result.status !== 0 || result.stderr.trim()) {
        outcomes.push({
          example,
          problem: `the command ${result.status === 'timeout' ? `did not end within ${COMMAND_TIMEOUT_MS / 1000} s` : `ended with status ${result.status}`}${
            result.stderr.trim() ? `, saying:\n${result.stderr.trim()}` : ''
          }${result.stdout.trim() ? `\nIt printed:\n${result.stdout.trim()}` : ''}`,
        });
        // The shell is still busy with it: what follows would run out of turn.
        if (result.status === 'timeout') break;
        continue;
      }
      outcomes.push({ example, ...check(example, result.stdout, moments) });
    }
    let failed = outcomes.filter((outcome) => outcome.problem);
    if (failed.length && process.env.UPDATE_API_DOCS === '1') {
      const rewritten = failed.filter((outcome) => outcome.rewrite !== undefined);
      writeFileSync(PAGE, rewritePage(page, rewritten));
      console.log(`UPDATE_API_DOCS: rewrote ${rewritten.length} answers of docs/api.md; review the diff`);
      // What a rewrite cannot mend (a command that fails) still fails.
      failed = failed.filter((outcome) => outcome.rewrite === undefined);
    }
    if (outcomes.length < examples.length)
      failed.push({
        example: examples[outcomes.length],
        problem: `not run, nor the ${examples.length - outcomes.length - 1} after it: a command before did not end within ${COMMAND_TIMEOUT_MS / 1000} s`,
      });
    const report = failed.map(({ example, problem, rewrite }) => {
      const at = example.answer ?? example.command;
      return [
        `docs/api.md:${at.line} (${example.command.heading}), the command at line ${example.command.line}:`,
        problem,
        ...(rewrite === undefined ? [] : ['the answer as the page would show it:', '```', rewrite.trim(), '```']),
      ].join('\n');
    });
    if (service?.exitCode !== null)
      report.push(
        `the service exited (${service?.exitCode}); its log ends:\n${readFileSync(log, 'utf8').slice(-3000)}`,
      );
    // The whole report in the failure itself: where, what differs, and the answer to paste.
    if (report.length)
      throw new Error(
        `${report.length} of ${examples.length} examples of docs/api.md do not answer as the page shows.\n\n${report.join('\n\n')}\n\nTo take the service's answers into the page (placeholders kept where they fit): UPDATE_API_DOCS=1 npx jest test/docs`,
      );
  }, 600_000);
});
