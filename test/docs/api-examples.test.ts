import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { valuesOf } from './api-page';
import {
  freePort,
  type Outcome,
  PAGE,
  pageExamples,
  pageWorkFolder,
  reportOf,
  runExamples,
  Session,
  shellEnv,
} from './api-runner';

/**
 * docs/api.md runs: a fresh embedded default (as `npm start` serves it, with
 * the webhook chapter's WEBHOOK_ALLOW_PRIVATE_NETWORKS=true), then every ```sh
 * block of the page in order in one bash session, each printed answer compared
 * with the block the page shows after it (placeholders as the page's top says;
 * the runner is api-runner.ts, which the executor parity proof runs too).
 *
 * The session works in a folder of its own that looks like the repository's root
 * (package.json, node_modules, dist and scripts linked in), so the page's
 * `npm run` commands, ./data, service.log and the files it writes are this run's,
 * and no developer's .env or ./data is read.
 *
 * To rewrite the answers the page shows from what the service answers now
 * (placeholders kept where they still fit): UPDATE_API_DOCS=1 npx jest test/docs
 */

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
  const { page, examples } = pageExamples();
  const work = pageWorkFolder();
  let service: ChildProcess | undefined;
  let session: Session | undefined;
  let log = '';
  let sessionStart = 0;

  beforeAll(async () => {
    sessionStart = Date.now();
    const [port, receiverPort] = [await freePort(), await freePort()];
    const env = shellEnv(work, { port, receiverPort });
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
    const outcomes = await runExamples(session!, examples, sessionStart);
    let failed = outcomes.filter((outcome) => outcome.problem);
    if (failed.length && process.env.UPDATE_API_DOCS === '1') {
      const rewritten = failed.filter((outcome) => outcome.rewrite !== undefined);
      writeFileSync(PAGE, rewritePage(page, rewritten));
      console.log(`UPDATE_API_DOCS: rewrote ${rewritten.length} answers of docs/api.md; review the diff`);
      // What a rewrite cannot mend (a command that fails) still fails.
      failed = failed.filter((outcome) => outcome.rewrite === undefined);
    }
    const report = reportOf(failed, outcomes, examples);
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
