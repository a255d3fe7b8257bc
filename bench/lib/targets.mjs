// The targets and their verdicts: pure functions of the run's measurements, so
// the counting is tested (bench/lib/targets.test.mjs) and no row's wording
// decides whether it counts. A target is judged once, here; the report only
// shows what this returns.
//
// A target is { id, kind, of, atLeast | atMost | below, ... }: `kind` names how
// its figure is computed from the run (KINDS below), `of` the measurement it is
// about, and exactly one threshold how the figure must compare.

export const MET = 'met';
export const MISSED = 'missed';
export const NOT_MEASURED = 'not measured';

/** The bare Apollo runs' key: every ratio to Apollo uses the runs just before and just after. */
export const APOLLO = 'apollo';

const COMPARISONS = {
  atLeast: { sign: '≥', ok: (figure, threshold) => figure >= threshold },
  atMost: { sign: '≤', ok: (figure, threshold) => figure <= threshold },
  below: { sign: '<', ok: (figure, threshold) => figure < threshold },
};

/** The measurement entry of `key` ({ order, key, title, server, measurement }), or undefined. */
export const entryOf = (run, key) => run.measurements.find((entry) => entry.key === key);

/** The paced pass of scenario `key` at half its peak rate, and its floor's pass at the same rate. */
export const halfPeakKey = (key) => `${key}-half`;
export const floorPacedKey = (floor, key) => `${floor}-paced-for-${key}`;

/** Mean req/s of the bare Apollo runs just before and just after `entry` (drift shows in them). */
export function apolloAround(run, entry) {
  const runs = run.measurements.filter((candidate) => candidate.key === APOLLO);
  const before = runs.filter((candidate) => candidate.order < entry.order).at(-1);
  const after = runs.find((candidate) => candidate.order > entry.order);
  const around = [before, after].filter(Boolean).map((candidate) => candidate.measurement.requestsPerSecond);
  return around.length === 0 ? null : around.reduce((sum, value) => sum + value, 0) / around.length;
}

/** `key`'s req/s over bare Apollo's around it; null for a paced or 1-connection pass (not a peak). */
export function ratioToApollo(run, key) {
  const entry = entryOf(run, key);
  if (!entry || entry.measurement.paced || entry.measurement.connections === 1) return null;
  const reference = apolloAround(run, entry);
  return reference ? entry.measurement.requestsPerSecond / reference : null;
}

const p99 = (m) => (m.correctedLatencyMs ?? m.latencyMs).p99;
/** Milliseconds for a detail: 2 decimals under 10, 1 above. */
const msText = (value) => (value === null || value === undefined ? '?' : value.toFixed(value < 10 ? 2 : 1));
const fixed = (value, digits) => Number(value.toFixed(digits));

/**
 * How each kind of target gets its figure from the run: `uses` names the
 * measurements it needs (their errors make it missed, their absence not
 * measured), `figure` computes { figure, detail } from them.
 */
export const KINDS = {
  /** Peak req/s over the bare Apollo runs around it. */
  ratioToApollo: {
    uses: (t) => [t.of],
    figure: (t, run, [m]) => {
      const reference = apolloAround(run, entryOf(run, t.of));
      return {
        figure: reference ? m.requestsPerSecond / reference : null,
        detail: `${m.requestsPerSecond} / ${reference === null ? '?' : Math.round(reference)} req/s`,
      };
    },
    unit: '× bare Apollo',
  },
  /** Peak req/s over another pass's (a floor's) peak req/s, same run. */
  ratioTo: {
    uses: (t) => [t.of, t.to],
    figure: (_t, _run, [m, reference]) => ({
      figure: m.requestsPerSecond / reference.requestsPerSecond,
      detail: `${m.requestsPerSecond} / ${reference.requestsPerSecond} req/s`,
    }),
    unit: (t) => `× ${t.toName ?? t.to}`,
  },
  /** p99 at half the peak rate, paced, over the floor's p99 paced at the same rate. */
  halfPeakP99: {
    uses: (t) => [halfPeakKey(t.of), floorPacedKey(t.floor, t.of)],
    figure: (_t, _run, [m, floor]) => ({
      figure: p99(m) / p99(floor),
      detail: `p99 ${msText(p99(m))} ms / ${msText(p99(floor))} ms at ${m.rate} req/s`,
    }),
    unit: (t) => `× ${t.floorName ?? t.floor}'s p99 paced alike`,
  },
  /** CPU µs per answered request of one process over the pass (the CPU table). */
  cpu: {
    uses: (t) => [t.of],
    figure: (t, _run, [m]) => ({ figure: m.cpuUsPerRequest?.[t.process] ?? null, detail: null }),
    unit: (t) => `µs of ${t.processName ?? t.process} CPU per request`,
  },
  /** A latency percentile of the pass (from the moment each request was due, when paced). */
  latency: {
    uses: (t) => [t.of],
    figure: (t, _run, [m]) => ({ figure: (m.correctedLatencyMs ?? m.latencyMs)[t.percentile], detail: null }),
    unit: (t) => `ms (${t.percentile})`,
  },
  /** p50 over another pass's p50: growth with size. */
  p50Growth: {
    uses: (t) => [t.of, t.base],
    figure: (_t, _run, [m, base]) => ({
      figure: m.latencyMs.p50 / base.latencyMs.p50,
      detail: `p50 ${msText(m.latencyMs.p50)} ms / ${msText(base.latencyMs.p50)} ms`,
    }),
    unit: (t) => `× ${t.baseName ?? t.base}'s p50`,
  },
  /** p99 of a paced pass over another scenario's half-peak pass (paced alike): what work beside it cost. */
  p99VsHalfPeak: {
    uses: (t) => [t.of, halfPeakKey(t.to)],
    figure: (_t, _run, [m, reference]) => ({
      figure: p99(m) / p99(reference),
      detail: `p99 ${msText(p99(m))} ms / ${msText(p99(reference))} ms at ${m.rate} req/s`,
    }),
    unit: (t) => `× ${t.toName ?? t.to}'s p99 at half its peak`,
  },
  /** A figure of the work that ran beside the pass (measurement.during[name], e.g. values re-encrypted a second). */
  during: {
    uses: (t) => [t.of],
    figure: (t, _run, [m]) => ({ figure: m.during?.[t.figure] ?? null, detail: null }),
    unit: (t) => t.unit,
  },
  /** A figure of the whole run (run.figures[name]): peak RSS, how long the run took. */
  run: {
    uses: () => [],
    figure: (t, run) => ({ figure: run.figures?.[t.figure] ?? null, detail: null }),
    unit: (t) => t.unit,
  },
};

/**
 * Judges one target against the run: { id, title, row, figure, threshold,
 * comparison, unit, verdict, why, detail }. The verdict is MET or MISSED when
 * the figure exists, NOT_MEASURED when a pass it needs did not run (a skipped
 * scenario: its reason is `why`). A pass with errors makes its targets MISSED
 * whatever the figure: an answer that failed is not a fast answer.
 */
export function judge(target, run) {
  const kind = KINDS[target.kind];
  if (!kind) throw new Error(`target ${target.id}: unknown kind ${target.kind}`);
  const thresholds = Object.keys(COMPARISONS).filter((name) => target[name] !== undefined);
  if (thresholds.length !== 1)
    throw new Error(`target ${target.id}: give exactly one of ${Object.keys(COMPARISONS).join(', ')}`);
  const [comparisonName] = thresholds;
  const comparison = COMPARISONS[comparisonName];
  const threshold = target[comparisonName];
  const judged = {
    id: target.id,
    title: target.title ?? target.id,
    row: target.row ?? target.of ?? null,
    comparison: comparison.sign,
    threshold,
    unit: typeof kind.unit === 'function' ? kind.unit(target) : kind.unit,
    figure: null,
    detail: null,
    verdict: NOT_MEASURED,
    why: null,
  };
  const keys = kind.uses(target);
  const entries = keys.map((key) => entryOf(run, key));
  const missing = keys.filter((_key, index) => !entries[index]);
  if (missing.length > 0) {
    judged.why = missing.map((key) => run.skipped?.[key] ?? `${key} not measured`).join('; ');
    return judged;
  }
  const measurements = entries.map((entry) => entry.measurement);
  const { figure, detail } = kind.figure(target, run, measurements);
  judged.detail = detail;
  const measured = figure !== null && figure !== undefined && Number.isFinite(figure);
  if (measured) judged.figure = fixed(figure, 3);
  const errors = measurements.reduce((sum, m) => sum + (m.errors ?? 0), 0);
  if (errors > 0) {
    judged.verdict = MISSED;
    judged.why = `${errors} errors in ${keys.filter((_key, index) => measurements[index].errors > 0).join(', ')}`;
    return judged;
  }
  if (!measured) {
    judged.why = 'no figure';
    return judged;
  }
  // The figure as stored (3 decimals), so the JSON's figure, threshold and verdict agree.
  judged.verdict = comparison.ok(judged.figure, threshold) ? MET : MISSED;
  return judged;
}

/** Counts of the judged targets by verdict: only targets count, never a reference or measured row. */
export function tally(judged) {
  const count = (verdict) => judged.filter((target) => target.verdict === verdict).length;
  return { targetsMet: count(MET), targetsMissed: count(MISSED), targetsNotMeasured: count(NOT_MEASURED) };
}

/** Checks a list of targets once, before a run: unique ids, known kinds, one threshold each. */
export function validateTargets(targets) {
  const seen = new Set();
  for (const target of targets) {
    if (!target.id) throw new Error(`a target without an id: ${JSON.stringify(target)}`);
    if (seen.has(target.id)) throw new Error(`two targets with the id ${target.id}`);
    seen.add(target.id);
    if (!KINDS[target.kind]) throw new Error(`target ${target.id}: unknown kind ${target.kind}`);
    const thresholds = Object.keys(COMPARISONS).filter((name) => target[name] !== undefined);
    if (thresholds.length !== 1) throw new Error(`target ${target.id}: give exactly one threshold`);
  }
  return targets;
}
