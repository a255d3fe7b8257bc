// The bench's verdicts, on made-up measurements: `node --test bench/lib/`
// (test/bench/verdicts.test.ts runs it under jest, which cannot load ES modules).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allTargets, GROUPS, SCENARIOS, validatePlan } from './plan.mjs';
import { tableRows, targetsTable } from './report.mjs';
import { judge, MET, MISSED, NOT_MEASURED, ratioToApollo, tally, validateTargets } from './targets.mjs';

/** A peak pass: req/s and latencies, no errors unless given. */
const peak = (requestsPerSecond, { errors = 0, p50 = 1, p99 = 5, cpu = {}, connections = 16 } = {}) => ({
  connections,
  requestsPerSecond,
  latencyMs: { p50, p99 },
  errors,
  cpuUsPerRequest: cpu,
});
/** A paced pass: p99 counted from the moment each request was due (correctedLatencyMs). */
const paced = (rate, p99, { errors = 0, written = 1 } = {}) => ({
  connections: 16,
  rate,
  paced: true,
  requestsPerSecond: rate,
  latencyMs: { p50: written, p99: written },
  correctedLatencyMs: { p50: p99 / 3, p99 },
  errors,
});
const runOf = (passes, extra = {}) => ({
  measurements: passes.map(([key, measurement], index) => ({ order: index + 1, key, title: key, measurement })),
  skipped: {},
  ...extra,
});

describe('judge', () => {
  test('a ratio to a floor is met at the threshold and missed below it', () => {
    const target = { id: 't', kind: 'ratioTo', of: 'verify', to: 'floor', atLeast: 0.6 };
    assert.equal(
      judge(
        target,
        runOf([
          ['verify', peak(600)],
          ['floor', peak(1000)],
        ]),
      ).verdict,
      MET,
    );
    const missed = judge(
      target,
      runOf([
        ['verify', peak(599)],
        ['floor', peak(1000)],
      ]),
    );
    assert.equal(missed.verdict, MISSED);
    assert.equal(missed.figure, 0.599);
    assert.equal(missed.threshold, 0.6);
    assert.equal(missed.comparison, '≥');
  });

  test('errors in the pass, or in the floor it is compared with, make a target missed whatever its figure', () => {
    const target = { id: 't', kind: 'ratioTo', of: 'verify', to: 'floor', atLeast: 0.6 };
    const own = judge(
      target,
      runOf([
        ['verify', peak(900, { errors: 3 })],
        ['floor', peak(1000)],
      ]),
    );
    assert.equal(own.verdict, MISSED);
    assert.match(own.why, /3 errors in verify/);
    const floors = judge(
      target,
      runOf([
        ['verify', peak(900)],
        ['floor', peak(1000, { errors: 1 })],
      ]),
    );
    assert.equal(floors.verdict, MISSED);
  });

  test('a pass that answered nothing but errors is missed, not "not measured"', () => {
    const target = { id: 't', kind: 'latency', of: 'org', percentile: 'p99', below: 20 };
    const run = runOf([['org', { ...peak(0, { errors: 50 }), latencyMs: { p50: null, p99: null } }]]);
    assert.equal(judge(target, run).verdict, MISSED);
  });

  test('a target whose pass did not run is not measured, with the reason it was skipped', () => {
    const target = { id: 't', kind: 'ratioToApollo', of: 'amr', atLeast: 0.7 };
    const run = runOf([['apollo', peak(1000)]], { skipped: { amr: 'skipped: not implemented' } });
    const judged = judge(target, run);
    assert.equal(judged.verdict, NOT_MEASURED);
    assert.equal(judged.why, 'skipped: not implemented');
  });

  test('a ratio to bare Apollo uses the mean of the runs just before and just after', () => {
    const run = runOf([
      ['apollo', peak(8000)],
      ['me', peak(5000)],
      ['apollo', peak(12000)],
      ['late', peak(5000)],
      ['apollo', peak(2000)],
    ]);
    assert.equal(ratioToApollo(run, 'me'), 0.5);
    assert.equal(ratioToApollo(run, 'late'), 5000 / 7000);
    const target = { id: 't', kind: 'ratioToApollo', of: 'me', atLeast: 0.7 };
    assert.equal(judge(target, run).verdict, MISSED);
  });

  test('no ratio to Apollo for a paced or a 1-connection pass', () => {
    const run = runOf([
      ['apollo', peak(8000)],
      ['half', paced(100, 5)],
      ['single', peak(500, { connections: 1 })],
      ['apollo', peak(8000)],
    ]);
    assert.equal(ratioToApollo(run, 'half'), null);
    assert.equal(ratioToApollo(run, 'single'), null);
  });

  test("a half-peak p99 is judged against its floor's p99 paced at the same rate, from due time", () => {
    const target = { id: 't', kind: 'halfPeakP99', of: 'me', floor: 'access-floor', atMost: 1.5 };
    const met = judge(
      target,
      runOf([
        ['me-half', paced(1500, 30, { written: 2 })],
        ['access-floor-paced-for-me', paced(1500, 20)],
      ]),
    );
    assert.equal(met.verdict, MET);
    assert.equal(met.figure, 1.5);
    const missed = judge(
      target,
      runOf([
        ['me-half', paced(1500, 31)],
        ['access-floor-paced-for-me', paced(1500, 20)],
      ]),
    );
    assert.equal(missed.verdict, MISSED);
    // The floor paced at another scenario's rate is not this one's floor.
    const wrongFloor = judge(
      target,
      runOf([
        ['me-half', paced(1500, 30)],
        ['access-floor-paced-for-access', paced(1400, 20)],
      ]),
    );
    assert.equal(wrongFloor.verdict, NOT_MEASURED);
  });

  test('CPU per request: the named process, and not measured when its figure is missing', () => {
    const target = { id: 't', kind: 'cpu', of: 'verify', process: 'mariadb', atMost: 600 };
    assert.equal(judge(target, runOf([['verify', peak(300, { cpu: { mariadb: 600 } })]])).verdict, MET);
    assert.equal(judge(target, runOf([['verify', peak(300, { cpu: { mariadb: 601 } })]])).verdict, MISSED);
    const none = judge(target, runOf([['verify', peak(300, { cpu: { service: 500 } })]]));
    assert.equal(none.verdict, NOT_MEASURED);
    assert.equal(none.why, 'no figure');
  });

  test('"below" is strict; p50 growth is over its base pass', () => {
    const rss = { id: 'rss', kind: 'run', figure: 'serviceRssMb', unit: 'MB', below: 250 };
    assert.equal(judge(rss, { measurements: [], figures: { serviceRssMb: 250 } }).verdict, MISSED);
    assert.equal(judge(rss, { measurements: [], figures: { serviceRssMb: 249.9 } }).verdict, MET);
    const growth = { id: 'g', kind: 'p50Growth', of: 'big', base: 'small', below: 2 };
    const run = runOf([
      ['small', peak(500, { p50: 1.5, connections: 1 })],
      ['big', peak(400, { p50: 3, connections: 1 })],
    ]);
    assert.equal(judge(growth, run).verdict, MISSED);
  });
});

describe('work beside a pass (re-encryption under a verification load)', () => {
  test("a paced pass's p99 is judged against the same scenario's half-peak pass", () => {
    const target = { id: 't', kind: 'p99VsHalfPeak', of: 'verify-rotating', to: 'verify', atMost: 1.5 };
    const run = (p99) =>
      runOf([
        ['verify-half', paced(150, 10)],
        ['verify-rotating', paced(150, p99)],
      ]);
    assert.equal(judge(target, run(15)).verdict, MET);
    const missed = judge(target, run(16));
    assert.equal(missed.verdict, MISSED);
    assert.equal(missed.figure, 1.6);
    assert.equal(judge(target, runOf([['verify-rotating', paced(150, 10)]])).verdict, NOT_MEASURED);
  });

  test('a figure of the work beside it (values re-encrypted a second) is read from measurement.during', () => {
    const target = { id: 't', kind: 'during', of: 'verify-rotating', figure: 'valuesPerSecond', atLeast: 5000 };
    const pass = (during) => ({ ...paced(150, 10), during });
    assert.equal(judge(target, runOf([['verify-rotating', pass({ valuesPerSecond: 5000 })]])).verdict, MET);
    assert.equal(judge(target, runOf([['verify-rotating', pass({ valuesPerSecond: 4999 })]])).verdict, MISSED);
    assert.equal(judge(target, runOf([['verify-rotating', pass(undefined)]])).why, 'no figure');
  });
});

describe('tally', () => {
  test('counts targets by verdict only: a miss counts as missed however it reads, a skipped target as not measured', () => {
    const run = runOf(
      [
        ['apollo', peak(1000)],
        ['a', peak(900)],
        ['b', peak(100)],
        ['c', peak(900, { errors: 2 })],
        ['apollo', peak(1000)],
      ],
      { skipped: { d: 'skipped: not implemented' } },
    );
    const judged = ['a', 'b', 'c', 'd'].map((of) => judge({ id: of, kind: 'ratioToApollo', of, atLeast: 0.5 }, run));
    assert.deepEqual(
      judged.map((target) => target.verdict),
      [MET, MISSED, MISSED, NOT_MEASURED],
    );
    assert.deepEqual(tally(judged), { targetsMet: 1, targetsMissed: 2, targetsNotMeasured: 1 });
  });
});

describe('the report', () => {
  const run = runOf([
    ['apollo', peak(1000)],
    ['judged', peak(100)],
    ['measured', peak(900)],
    ['floor', peak(2000)],
    ['apollo', peak(1000)],
  ]);
  const targets = [judge({ id: 'judged-ratio', kind: 'ratioToApollo', of: 'judged', atLeast: 0.5 }, run)];
  const results = {
    targets,
    ...tally(targets),
    rows: [
      { key: 'judged', title: 'judged', role: 'scenario', measurement: peak(100), targets: ['judged-ratio'] },
      { key: 'measured', title: 'measured', role: 'scenario', measurement: peak(900), targets: [] },
      {
        key: 'traced',
        title: 'traced',
        role: 'scenario',
        measurement: peak(450),
        targets: [],
        comparison: '0.50 × tracing off (450 / 900 req/s)',
      },
      { key: 'floor', title: 'floor', role: 'reference', measurement: peak(2000), targets: [] },
      { key: 'skipped', title: 'skipped', role: 'scenario', skipped: 'skipped: not implemented', targets: [] },
    ],
  };
  const [judgedRow, measuredRow, tracedRow, floorRow, skippedRow] = tableRows(results);

  test('a row without a target says "measured", never "met"', () => {
    assert.match(measuredRow, /\| measured \|$/);
    assert.doesNotMatch(measuredRow, /met/);
  });

  test('a measured row shows what it is compared with, and is still only "measured"', () => {
    assert.match(tracedRow, /\| 0\.50 × tracing off \(450 \/ 900 req\/s\) \| measured \|$/);
  });

  test('a missed target shows its figure beside its threshold, and MISSED', () => {
    assert.match(judgedRow, /0\.10 × bare Apollo \(≥ 0\.5\) \| MISSED \|$/);
  });

  test('a reference is shown as one, and a skipped scenario with its reason', () => {
    assert.match(floorRow, /\| reference \| {2}\|$/);
    assert.match(skippedRow, /\| skipped: not implemented \|/);
  });

  test('the targets table counts targets and shows each verdict', () => {
    const lines = targetsTable(results);
    assert.equal(lines[0], 'Targets: 0 met, 1 missed, 0 not measured (of 1).');
    assert.match(
      lines.at(-1),
      /^\| judged-ratio \| 0\.10 \(100 \/ 1000 req\/s\) \| ≥ 0\.5 × bare Apollo \| MISSED \|$/,
    );
  });
});

describe('the plan', () => {
  test("holds issue 22's targets with its thresholds", () => {
    const thresholds = Object.fromEntries(
      allTargets().map((target) => [target.id, target.atLeast ?? target.atMost ?? target.below]),
    );
    assert.deepEqual(thresholds, {
      'access-vs-read-floor': 0.85,
      'access-half-peak-p99': 1.5,
      'me-vs-apollo': 0.7,
      'me-half-peak-p99': 1.5,
      'start-vs-apollo': 0.5,
      'start-half-peak-p99': 1.5,
      'verify-totp-vs-durable-floor': 0.6,
      'verify-totp-half-peak-p99': 1.5,
      'verify-totp-cpu-service': 700,
      'verify-totp-cpu-mariadb': 600,
      'verify-key-vs-durable-floor': 0.4,
      'verify-key-half-peak-p99': 1.5,
      'start-device-vs-durable-floor': 0.6,
      'start-device-half-peak-p99': 1.5,
      'organization-page-10k-vs-apollo': 0.3,
      'organization-page-100k-vs-apollo': 0.3,
      'organization-page-1m-vs-apollo': 0.3,
      'compliance-1m-p99': 20,
      'compliance-1m-p50-growth': 2,
      'compliance-pr-1m-p99': 20,
      'compliance-pr-1m-p50-growth': 2,
      'compliance-allow-list-1m-p99': 20,
      'compliance-allow-list-1m-p50-growth': 2,
      'verify-totp-during-rotation-p99': 1.5,
      'rotation-rate': 2000,
      'service-rss': 250,
      'bench-duration': 600,
    });
  });

  test('reads are paced against the read floor, login steps against the durable floor', () => {
    const floors = Object.fromEntries(
      allTargets()
        .filter((target) => target.kind === 'halfPeakP99')
        .map((target) => [target.of, target.floor]),
    );
    assert.deepEqual(floors, {
      access: 'access-floor',
      me: 'access-floor',
      'login-start': 'verify-floor',
      'login-verify': 'verify-floor',
      'login-webauthn-verify': 'verify-floor',
      'login-device': 'verify-floor',
    });
  });

  test('each pass with tracing on is measured (no target) just before the same pass with it off', () => {
    const traced = SCENARIOS.filter((scenario) => scenario.tracingOf);
    assert.deepEqual(
      traced.map((scenario) => [scenario.key, scenario.tracingOf]),
      [
        ['access-traced', 'access'],
        ['login-verify-traced', 'login-verify'],
      ],
    );
    for (const scenario of traced) {
      const off = SCENARIOS.find((candidate) => candidate.key === scenario.tracingOf);
      assert.equal(scenario.server, 'traced');
      assert.equal(off.server, 'service');
      assert.equal(scenario.phase, off.phase);
      assert.equal(SCENARIOS.indexOf(off), SCENARIOS.indexOf(scenario) + 1);
      assert.equal(scenario.targets, undefined);
      assert.equal(scenario.role, undefined);
      assert.equal(scenario.title, `${off.title}, tracing on`);
      assert.ok(GROUPS.tracing.includes(scenario.key) && GROUPS.tracing.includes(off.key));
    }
    // The verifications spend the challenges of the start pass.
    assert.ok(GROUPS.tracing.includes('login-start'));
  });

  test('its keys and references hold together', () => {
    assert.equal(validatePlan(), true);
    const access = SCENARIOS.find((scenario) => scenario.key === 'access');
    assert.throws(() => validatePlan([...SCENARIOS, { ...access }]), /two scenarios with the key access$/);
    assert.throws(() => validatePlan([...SCENARIOS, { key: 'x', tracingOf: 'nowhere' }]), /refers to nowhere/);
    assert.throws(
      () =>
        validatePlan([...SCENARIOS, { key: 'x', targets: [{ id: 'x', kind: 'ratioTo', to: 'nowhere', atLeast: 1 }] }]),
      /refers to nowhere/,
    );
    assert.throws(() => validateTargets([{ id: 'a', kind: 'cpu', atMost: 1, below: 2 }]), /exactly one threshold/);
  });
});
