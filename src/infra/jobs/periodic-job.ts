import type { Logger } from '../logger';

/**
 * Runs `task` every `intervalMs` on this instance (never two runs of it at once
 * here), in the background: the timer does not keep the process alive, a failure
 * is logged and the next run tries again, `stop()` waits for a run in progress.
 * A task that must not run on two instances at once takes a lock of its own.
 */
export class PeriodicJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  /** The first run soon after start (work left by a crash resumes), then every interval. */
  start(): void {
    this.schedule(Math.min(this.intervalMs, 1_000));
  }

  /** Runs the task now (tests, and the first run after start). */
  async runOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.task()
      .then(() => undefined)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, job: this.name }, 'background job failed; it runs again later'),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.again;
  }

  private schedule(delayMs = this.intervalMs): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, delayMs);
    this.timer.unref();
  }
}
