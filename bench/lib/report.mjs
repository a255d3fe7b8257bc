// The results: targets checked, a markdown report, bench/results/<date>.json and .md,
// and the latest table copied into bench/README.md between its markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { MET, MISSED } from './targets.mjs';

export const README_START = '<!-- bench:latest:start -->';
export const README_END = '<!-- bench:latest:end -->';

const fmt = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : Number(value).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (value) => (value === null || value === undefined ? '—' : value < 10 ? fmt(value, 2) : fmt(value, 1));

/** A figure or threshold: two decimals under 10, one under 100, none above. */
const figure = (value) =>
  value === null || value === undefined
    ? '—'
    : Math.abs(value) < 10
      ? fmt(value, 2)
      : Math.abs(value) < 100
        ? fmt(value, 1)
        : fmt(value);

/** How a verdict reads: a miss in capitals, with why when it was errors; a target not measured, with why. */
export function verdictText(target) {
  if (target.verdict === MET) return 'met';
  if (target.verdict === MISSED) return target.why ? `MISSED: ${target.why}` : 'MISSED';
  return `not measured${target.why ? ` (${target.why})` : ''}`;
}

/** A threshold as the issue writes it: 0.85, 1.5, 20, 700. */
const threshold = (value) => Number(value).toLocaleString('en-US', { maximumFractionDigits: 2 });

/** "0.47 × the read floor (≥ 0.85)": the figure beside its threshold. */
export const targetText = (target) =>
  `${figure(target.figure)} ${target.unit} (${target.comparison} ${threshold(target.threshold)})`;

/** The short table of targets, each with its figure, threshold and verdict. */
export function targetsTable(results) {
  const targets = results.targets ?? [];
  if (targets.length === 0) return [];
  const lines = [
    `Targets: ${results.targetsMet} met, ${results.targetsMissed} missed, ${results.targetsNotMeasured} not measured (of ${targets.length}).`,
    '',
    '| target | figure | threshold | result |',
    '| --- | ---: | --- | --- |',
  ];
  for (const target of targets) {
    lines.push(
      `| ${target.title} | ${figure(target.figure)}${target.detail ? ` (${target.detail})` : ''} | ${target.comparison} ${threshold(target.threshold)} ${target.unit} | ${verdictText(target)} |`,
    );
  }
  return lines;
}

/** One row per pass of a scenario (and the run's own figures), in the order of the table. */
export function tableRows(results) {
  const byId = new Map((results.targets ?? []).map((target) => [target.id, target]));
  const rows = [];
  for (const row of results.rows) {
    const targets = (row.targets ?? []).map((id) => byId.get(id)).filter(Boolean);
    const m = row.measurement && {
      ...row.measurement,
      latencyMs: row.measurement.correctedLatencyMs ?? row.measurement.latencyMs,
    };
    let target = targets.map(targetText).join('; ');
    let result = targets.map(verdictText).join('; ');
    if (targets.length === 0) {
      // Never "met": only a target is met or missed.
      target = row.role === 'reference' ? 'reference' : (row.comparison ?? '');
      result = row.role === 'scenario' && !row.skipped ? 'measured' : '';
    }
    const measured = Boolean(m);
    rows.push(
      `| ${row.title} | ${row.skipped ?? (measured ? fmt(m.requestsPerSecond) : '—')} | ${measured ? ms(m.latencyMs.p50) : ''} | ${
        measured ? ms(m.latencyMs.p99) : ''
      } | ${measured ? fmt(m.errors) : ''} | ${row.ratioToApollo === null || row.ratioToApollo === undefined ? '—' : fmt(row.ratioToApollo, 2)} | ${target} | ${result} |`,
    );
  }
  return rows;
}

export function markdown(results) {
  const { machine, settings } = results;
  const lines = [];
  lines.push(`### Run of ${results.date}`);
  lines.push('');
  // The verdicts first: what the run says, before how it was measured.
  const targets = targetsTable(results);
  if (targets.length > 0) lines.push(...targets, '');
  lines.push(
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${fmt(machine.memoryGiB, 1)} GiB, ${machine.os}; Node ${machine.node}, ` +
      `MariaDB ${machine.mariadb}, Redis ${machine.redis}; load average before the run ${machine.loadAverageBefore.join(' / ')}.`,
  );
  if (machine.mariadbSettings) {
    const mib = (bytes) => fmt(Number(bytes) / 2 ** 20);
    const db = machine.mariadbSettings;
    lines.push(
      `MariaDB as the machine has it (the bench changes nothing): buffer pool ${mib(db.bufferPoolBytes)} MiB, redo log ${mib(db.redoLogBytes)} MiB, ` +
        `innodb_io_capacity ${db.ioCapacity}, innodb_flush_log_at_trx_commit ${db.flushLogAtCommit} (every COMMIT is flushed to disk).`,
    );
  }
  lines.push(
    `Versions: ${Object.entries(machine.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}.`,
  );
  const build = results.serviceBuild;
  lines.push(
    `Service: commit ${build.commit}${build.uncommittedChangesInSrc ? ` with ${build.uncommittedChangesInSrc} files of src/ changed since` : ''}, ` +
      `\`node dist/src/main.js\` with NODE_ENV=production (its own process), started and migrated in ${fmt(results.serviceStartMs)} ms.`,
  );
  lines.push(
    `Settings: ${settings.connections} connections, ${settings.duration} s per measurement after ${settings.warmup} s of warm-up, ` +
      `time-per-query passes with 1 connection for ${settings.latencyDuration} s; load generator (autocannon) on the same machine. ` +
      `Bench run took ${fmt(results.benchSeconds?.seconds ?? results.elapsedSeconds)} s (${results.benchSeconds?.from ?? 'this process'}; ` +
      `seeding ${fmt(results.seeding.totalSeconds, 1)} s for ${fmt(results.seeding.memberships)} memberships).`,
  );
  lines.push('');
  lines.push('| scenario | req/s | p50 ms | p99 ms | errors | ratio to bare Apollo | target | result |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  lines.push(...tableRows(results));
  lines.push('');
  lines.push(
    'Rows marked "paced" are open-loop passes at a fixed rate: their p50/p99 count from the moment each request was due ' +
      '(the JSON also has them from the moment it was written); each half-peak pass is followed by its floor paced at the same rate. ' +
      'Ratios to bare Apollo use the mean of the bare Apollo runs just before and after. "measured" rows have no target and count for nothing.',
  );
  lines.push(...cpuTable(results));
  lines.push('');
  lines.push(
    'Baselines in run order (drift shows here; each ratio above uses the Apollo runs just before and after it):',
  );
  lines.push('');
  lines.push('| # | baseline | req/s | p50 ms | p99 ms | errors |');
  lines.push('| ---: | --- | ---: | ---: | ---: | ---: |');
  for (const b of results.baselines) {
    const m = b.measurement;
    lines.push(
      `| ${b.order} | ${b.title} | ${fmt(m.requestsPerSecond)} | ${ms(m.latencyMs.p50)} | ${ms(m.latencyMs.p99)} | ${fmt(m.errors)} |`,
    );
  }
  lines.push('');
  lines.push('Organization query by size (`compliance` + first page of members without two-factor):');
  lines.push('');
  lines.push('| members | 1 connection: p50 ms | p99 ms | 16 connections: req/s | p50 ms | p99 ms |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const size of results.organizationGrowth) {
    lines.push(
      `| ${fmt(size.members)} | ${ms(size.single?.latencyMs.p50)} | ${ms(size.single?.latencyMs.p99)} | ${fmt(size.loaded?.requestsPerSecond)} | ${ms(
        size.loaded?.latencyMs.p50,
      )} | ${ms(size.loaded?.latencyMs.p99)} |`,
    );
  }
  if (results.organizationPhishingResistantGrowth) {
    lines.push('');
    lines.push(
      'The same with the phishing-resistant counters and `filter: { phishingResistant: false }` (30 % of members have a WebAuthn credential):',
    );
    lines.push('');
    lines.push('| members | 1 connection: p50 ms | p99 ms | 16 connections: req/s | p50 ms | p99 ms |');
    lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const size of results.organizationPhishingResistantGrowth) {
      lines.push(
        `| ${fmt(size.members)} | ${ms(size.single?.latencyMs.p50)} | ${ms(size.single?.latencyMs.p99)} | ${fmt(size.loaded?.requestsPerSecond)} | ${ms(
          size.loaded?.latencyMs.p50,
        )} | ${ms(size.loaded?.latencyMs.p99)} |`,
      );
    }
  }
  lines.push('');
  lines.push(
    `Peak memory (VmHWM): service ${fmt(results.memory.serviceMb, 1)} MB; bare Apollo ${fmt(results.memory.apolloMb, 1)} MB; bare Mercurius ${fmt(
      results.memory.mercuriusMb,
      1,
    )} MB${tracedRss(results)}.`,
  );
  if (results.notes.length > 0) {
    lines.push('');
    for (const note of results.notes) lines.push(`- ${note}`);
  }
  lines.push('');
  return lines.join('\n');
}

/** The traced service's peak RSS in each of its passes: measured, never the service's target. */
function tracedRss(results) {
  const passes = (results.tracing?.passes ?? []).filter((pass) => pass.peakRssMb !== undefined);
  if (passes.length === 0) return '';
  return `; the service with tracing on (its own process, not judged) ${passes.map((pass) => `${fmt(pass.peakRssMb, 1)} MB (${pass.key})`).join(', ')}`;
}

/**
 * What each request cost each process sharing the machine's cores: with two
 * cores, the database, Redis and the load generator take from the same budget
 * as the server measured, so a ratio of throughputs is a ratio of these totals.
 */
function cpuTable(results) {
  const passes = (results.measurements ?? []).filter((entry) => entry.measurement.cpuUsPerRequest);
  if (passes.length === 0) return [];
  // The tracing passes' OTLP receiver has a column when one ran.
  const otlp = passes.some((entry) => entry.measurement.cpuUsPerRequest['OTLP receiver'] !== undefined);
  const lines = [
    '',
    'CPU per answered request, µs of user + system time over each measured pass (the server measured, and what shares the two cores with it):',
    '',
    `| # | pass | server | MariaDB | Redis | load generator | webhook receiver |${otlp ? ' OTLP receiver |' : ''} total |`,
    `| ---: | --- | ---: | ---: | ---: | ---: | ---: |${otlp ? ' ---: |' : ''} ---: |`,
  ];
  for (const { order, title, url, measurement } of passes) {
    const cpu = measurement.cpuUsPerRequest;
    const cell = (name) => (cpu[name] === undefined ? '—' : fmt(cpu[name]));
    const total = Object.values(cpu).reduce((sum, value) => sum + value, 0);
    lines.push(
      `| ${order} | ${title} | ${cell(url)} | ${cell('mariadb')} | ${cell('redis')} | ${cell('load generator')} | ${cell('webhook receiver')} |${otlp ? ` ${cell('OTLP receiver')} |` : ''} ${fmt(total)} |`,
    );
  }
  return lines;
}

export function writeResults(resultsDir, stamp, results) {
  const jsonFile = `${resultsDir}/${stamp}.json`;
  const mdFile = `${resultsDir}/${stamp}.md`;
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  const text = markdown(results);
  writeFileSync(mdFile, text);
  return { jsonFile, mdFile, text };
}

/** Replaces the latest-results section of bench/README.md (or appends one). */
export function updateReadme(readmeFile, text, resultFile) {
  let readme;
  try {
    readme = readFileSync(readmeFile, 'utf8');
  } catch {
    readme = '# Benchmarks\n';
  }
  const block = `${README_START}\n_Written by \`npm run bench\` (${resultFile})._\n\n${text}\n${README_END}`;
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  const next =
    start >= 0 && end > start
      ? readme.slice(0, start) + block + readme.slice(end + README_END.length)
      : `${readme.trimEnd()}\n\n## Latest results\n\n${block}\n`;
  writeFileSync(readmeFile, next);
}
