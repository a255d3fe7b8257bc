// The servers under test, each a process of its own (so its memory is its own and
// the load generator does not share its event loop), and their memory.
import { execFileSync, spawn } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything this bench started, to stop on any exit. */
const started = new Set();

export class ServerProcess {
  constructor(name, child, logFile, port) {
    this.name = name;
    this.child = child;
    this.logFile = logFile;
    this.port = port;
    this.peakRssKb = 0;
    this.exited = false;
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.exit = { code, signal };
      started.delete(this);
    });
  }

  get pid() {
    return this.child.pid;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** VmRSS and VmHWM (the kernel's peak resident set) of the process, in kB. */
  memory() {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      const rss = field('VmRSS');
      const hwm = field('VmHWM');
      this.peakRssKb = Math.max(this.peakRssKb, rss, hwm);
      return { rssKb: rss, hwmKb: hwm };
    } catch {
      return null;
    }
  }

  tail(lines = 20) {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  async stop(timeoutMs = 8_000) {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const gone = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!gone && !this.exited) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}

/** Starts `node [nodeArgs] <script>` with exactly `env` (no inherited variables), its output to `logFile`. */
export function startNode(name, script, { env, logFile, port, cwd, nodeArgs = [] }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const server = new ServerProcess(name, child, logFile, port);
  started.add(server);
  return server;
}

/** Waits until `path` answers 200 (or the process dies, or `timeoutMs` passes). */
export async function waitForHttp(server, path, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) {
      throw new Error(
        `${server.name} exited (${JSON.stringify(server.exit)}) before answering ${path}:\n${server.tail()}`,
      );
    }
    try {
      const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${server.name} did not answer ${path} within ${timeoutMs} ms:\n${server.tail()}`);
}

/** For a GraphQL server that serves only POST: a `{ __typename }` answer means ready. */
export async function waitForGraphql(server, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) throw new Error(`${server.name} exited (${JSON.stringify(server.exit)}):\n${server.tail()}`);
    try {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(2_000),
      });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${server.name} did not answer within ${timeoutMs} ms:\n${server.tail()}`);
}

/** Samples every server's memory every `intervalMs`; returns a stop function. */
export function sampleMemory(servers, intervalMs = 250) {
  const timer = setInterval(() => {
    for (const server of servers) server.memory();
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const server of servers) server.memory();
  };
}

export async function stopAll() {
  await Promise.all([...started].map((server) => server.stop()));
}

/** Last resort on a synchronous exit: SIGKILL whatever is still running. */
export function killAllNow() {
  for (const server of started) {
    try {
      server.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The pid of the process whose command is `name` (e.g. mariadbd), or null. */
export function pidOf(name) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** CPU time (user + system, all threads) each of `pids` used so far, in µs; null for a process gone or not found. */
export function cpuTimes(pids) {
  const times = {};
  for (const [name, pid] of Object.entries(pids)) {
    try {
      // Fields after the command (which may hold spaces): utime is the 14th field, stime the 15th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      times[name] = ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
    } catch {
      times[name] = null;
    }
  }
  return times;
}

/** How long ago process `pid` started, in seconds (from /proc: its start in clock ticks since boot), or null. */
export function processAgeSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command: starttime is the 22nd field of the whole line, the 20th after it.
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const age = uptime - startTicks / CLOCK_TICKS;
    return Number.isFinite(age) && age >= 0 ? age : null;
  } catch {
    return null;
  }
}
