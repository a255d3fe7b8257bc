import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  differenceOf,
  examplesOf,
  formatted,
  merged,
  mergedText,
  textDifference,
  timesShown,
  valuesOf,
  type Difference,
  type Example,
  type Moments,
} from './api-page';

/**
 * Runs docs/api.md as a reader would: every ```sh block of the page in order,
 * in one bash session, each printed answer compared with the block the page
 * shows after it. Whatever serves the API on the session's PORT answers it:
 * the embedded default (test/docs/api-examples.test.ts), or both executors in
 * lockstep (test/graphql/executor-parity.test.ts).
 */

export const ROOT = join(__dirname, '..', '..');
export const PAGE = join(ROOT, 'docs', 'api.md');
export const COMMAND_TIMEOUT_MS = 60_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A folder of its own that looks like the repository's root (package.json,
 * node_modules, dist and scripts linked in), so the page's `npm run` commands,
 * ./data, service.log and the files it writes are this run's, and no
 * developer's .env or ./data is read.
 */
export function pageWorkFolder(): string {
  const work = mkdtempSync(join(tmpdir(), 'tf-api-docs-'));
  for (const name of ['package.json', 'node_modules', 'dist', 'scripts'])
    symlinkSync(join(ROOT, name), join(work, name));
  return work;
}

/** Only what a developer's shell would have (jest's own settings, NODE_ENV=test..., stay out), and `extra`. */
export function shellEnv(work: string, ports: { port: number; receiverPort: number }, extra: NodeJS.ProcessEnv = {}) {
  return {
    PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
    HOME: process.env.HOME,
    TMPDIR: work,
    LANG: 'C.UTF-8',
    PORT: String(ports.port),
    RECEIVER_PORT: String(ports.receiverPort),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  } satisfies NodeJS.ProcessEnv;
}

/** One bash process; each command's output goes to files, its end is a marker on bash's stdout. */
export class Session {
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

export interface Outcome {
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
  // What a later example's <as before> stands for: the times this one showed.
  shown.forEach((value, index) => timesShown(value, got[index], moments));
  return {};
}

/** The page's examples, in the order it runs them. */
export function pageExamples(): { page: string; examples: Example[] } {
  const page = readFileSync(PAGE, 'utf8');
  return { page, examples: examplesOf(page) };
}

/**
 * Runs the examples one after another in `session` and compares each answer
 * with the page's; stops at a command that does not end (the shell is still
 * busy with it: what follows would run out of turn).
 */
export async function runExamples(session: Session, examples: Example[], sessionStart: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const earlier = new Map<string, number>();
  for (const example of examples) {
    const start = Date.now();
    const result = await session.run(example.command.text);
    const moments = { session: sessionStart, start, end: Date.now(), earlier };
    if (result.status !== 0 || result.stderr.trim()) {
      outcomes.push({
        example,
        problem: `the command ${result.status === 'timeout' ? `did not end within ${COMMAND_TIMEOUT_MS / 1000} s` : `ended with status ${result.status}`}${
          result.stderr.trim() ? `, saying:\n${result.stderr.trim()}` : ''
        }${result.stdout.trim() ? `\nIt printed:\n${result.stdout.trim()}` : ''}`,
      });
      if (result.status === 'timeout') break;
      continue;
    }
    outcomes.push({ example, ...check(example, result.stdout, moments) });
  }
  return outcomes;
}

/** What went wrong, example by example: where, what differs, and the answer to paste. */
export function reportOf(failed: Outcome[], outcomes: Outcome[], examples: Example[]): string[] {
  const problems = [...failed];
  if (outcomes.length < examples.length)
    problems.push({
      example: examples[outcomes.length],
      problem: `not run, nor the ${examples.length - outcomes.length - 1} after it: a command before did not end within ${COMMAND_TIMEOUT_MS / 1000} s`,
    });
  return problems.map(({ example, problem, rewrite }) => {
    const at = example.answer ?? example.command;
    return [
      `docs/api.md:${at.line} (${example.command.heading}), the command at line ${example.command.line}:`,
      problem,
      ...(rewrite === undefined ? [] : ['the answer as the page would show it:', '```', rewrite.trim(), '```']),
    ].join('\n');
  });
}
