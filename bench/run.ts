/**
 * `npm run bench`: times the analysis, the data plane and the tracer on synthetic clusters of several sizes and
 * checks the targets of bench/README.md. Performance targets live only here, never in timed unit tests.
 *
 * Each measurement is repeated (fresh inputs each run, so memoised rulesets never carry over) and reported as
 * median and p95. Exit code 1 when a target fails, so CI can run it on demand.
 */
import { analyse, compileDataPlane, nodeRulesText, traceFlow, type Analysis, type DataPlane } from '../src/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { loadavg, cpus } from 'node:os';
import { benchTopology, type BenchSize } from './topology';
import { buildTopology } from '../src/core/model/build';
import { Reachability } from '../src/core/policy/reach';
import { policyBenchFiles } from './policy-topology';
import { phaseRuns, runScale, WARM, WARM_POOL_SIZED, WARM_RANGE, type ScaleRow } from './scale';
import { runEditorBench, EDITOR_TARGETS } from './editor-run';
import { median, quantile } from './stats';

const SIZES: readonly BenchSize[] = [
  { name: 'small', nodes: 10, pods: 300, services: 50 },
  { name: 'large', nodes: 100, pods: 3000, services: 500 },
];

const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Row {
  readonly size: string;
  readonly what: string;
  readonly times: number[];
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

function measure(size: BenchSize, runs: number): Row[] {
  const text = benchTopology(size);
  const files = [{ path: `bench-${size.name}.netpath.yaml`, text }];
  const rows = new Map<string, number[]>();
  const add = (what: string, ms: number): void => void (rows.get(what) ?? rows.set(what, []).get(what)!).push(ms);
  for (let i = 0; i < runs; i++) {
    const [analysis, a] = time((): Analysis => analyse(files));
    add('analyse (model + rules)', a);
    const t = analysis.topology;
    const [dp, c] = time((): DataPlane => compileDataPlane(t));
    add('compileDataPlane', c);
    const [outcome, tr] = time(() => traceFlow(t, { from: 'pod/pod0', to: 'svc/svc1:http' }, dp));
    if (!outcome.result?.paths.every((p) => p.disposition === 'delivered'))
      throw new Error(`bench trace not delivered: ${JSON.stringify(outcome.problems)}`);
    add('trace pod -> Service (first, compiles the rules it meets)', tr);
    add('compile + one trace', c + tr);
    const [, tr2] = time(() => traceFlow(t, { from: 'pod/pod1', to: 'svc/svc2:http', reply: true }, dp));
    add('trace pod -> Service with --reply (warm data plane)', tr2);
    const node = t.nodes[t.nodes.length - 1].name;
    const [, one] = time(() => nodeRulesText(t, node));
    add('nodeRulesText, one node (alone)', one);
    const fresh = compileDataPlane(t);
    const [, all] = time(() => {
      for (const ns of fresh.namespaces.values()) void ns.filter;
    });
    add(`rulesets of all ${t.nodes.length} nodes (one data plane)`, all);
  }
  return [...rows].map(([what, times]) => ({
    size: `${size.name} (${size.nodes} nodes, ${size.pods} pods, ${size.services} svc)`,
    what,
    times,
  }));
}

const POLICY_SIZE = { namespaces: 50, apps: 10, replicas: 30, policiesPerNamespace: 20 };
const POLICY_LABEL = 'policies (15,000 pods, 1,000 NetworkPolicies, 50 namespaces)';

/** The reachability matrix at the scale of issue 15: 15,000 pods, 1,000 policies. */
function measurePolicies(runs: number): Row[] {
  const files = policyBenchFiles(POLICY_SIZE);
  const rows = new Map<string, number[]>();
  const add = (what: string, ms: number): void => void (rows.get(what) ?? rows.set(what, []).get(what)!).push(ms);
  for (let i = 0; i < runs; i++) {
    const [built, b] = time(() => buildTopology(files));
    add('model (YAML -> model, pods and policies)', b);
    const t = built.topology;
    if (t.pods.length !== 15000 || t.networkPolicies.length !== 1000)
      throw new Error('bench cluster has the wrong size');
    const [one, r1] = time(() => new Reachability(t, { ports: [{ protocol: 'TCP', port: 8080 }] }));
    add('reach matrix, one port (all pod pairs, by groups)', r1);
    if (!one.matrix.cells.some((c) => c.allowed) || one.matrix.cells.every((c) => c.allowed))
      throw new Error('bench reach matrix is trivial');
    const [, r2] = time(() => new Reachability(t));
    add('reach matrix, every declared port (2)', r2);
    const [, e] = time(() => one.explain(0, one.matrix.groups.length - 1, 0));
    add('explain one cell', e);
  }
  return [...rows].map(([what, times]) => ({ size: POLICY_LABEL, what, times }));
}

interface Target {
  readonly name: string;
  readonly size: string;
  readonly what: string;
  readonly maxMs: number;
}

/** The targets (bench/README.md says why), checked on the median. */
const TARGETS: readonly Target[] = [
  { name: 'compile + one trace, 100 nodes', size: 'large', what: 'compile + one trace', maxMs: 1000 },
  {
    name: 'all node rulesets, 100 nodes',
    size: 'large',
    what: 'rulesets of all 100 nodes (one data plane)',
    maxMs: 5000,
  },
  { name: 'analyse, 100 nodes', size: 'large', what: 'analyse (model + rules)', maxMs: 2000 },
  { name: 'one node rules text, 100 nodes', size: 'large', what: 'nodeRulesText, one node (alone)', maxMs: 500 },
  { name: 'compile + one trace, 10 nodes', size: 'small', what: 'compile + one trace', maxMs: 200 },
  {
    name: 'reach matrix, 15,000 pods x 1,000 policies, one port',
    size: 'policies',
    what: 'reach matrix, one port (all pod pairs, by groups)',
    maxMs: 5000,
  },
];

function table(rows: readonly string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 || i === 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '))
    .join('\n');
}

/** Scale targets (issue 16), checked on the sizes that ran. */
interface ScaleTarget {
  readonly name: string;
  readonly size: string;
  readonly format: ScaleRow['format'];
  readonly value: (r: ScaleRow) => number;
  readonly max: number;
  readonly unit: string;
}

const FIRST = 'trace (first, compiles what it meets)';
const SCALE_TARGETS: readonly ScaleTarget[] = [
  {
    name: 'lint / js-yaml load, 1,000 nodes',
    size: '1000',
    format: 'netpath',
    value: (r) => r.ratio,
    max: 2,
    unit: 'x',
  },
  {
    name: 'lint / js-yaml load, 5,000 nodes',
    size: '5000',
    format: 'netpath',
    value: (r) => r.ratio,
    max: 2,
    unit: 'x',
  },
  {
    name: 'lint peak memory, 5,000 nodes',
    size: '5000',
    format: 'netpath',
    value: (r) => r.lintPeakMB,
    max: 2048,
    unit: 'MB',
  },
  {
    name: 'trace after the model, 5,000 nodes',
    size: '5000',
    format: 'netpath',
    value: (r) => r.phases[WARM],
    max: 50,
    unit: 'ms',
  },
  {
    name: 'first trace (lazy compile), 5,000 nodes',
    size: '5000',
    format: 'netpath',
    value: (r) => r.phases[FIRST],
    max: 1000,
    unit: 'ms',
  },
  {
    name: 'trace after the model, 100 nodes',
    size: '100',
    format: 'netpath',
    value: (r) => r.phases[WARM],
    max: 5,
    unit: 'ms',
  },
];

/** The phase child's wait for a core over the nine warm traces (bench/scale-child.ts; Linux only). */
const WAITED = 'trace (warm, 9 traces) waited for a core';

/** A warm-trace median with the fastest and slowest runs' beside it, e.g. `4.1 (3.4-6.0)`. */
function warmWithRange(r: ScaleRow, key: string): string {
  const m = r.phases[key];
  if (m === undefined) return '-';
  const lo = r.phases[`${key}${WARM_RANGE.fastest}`];
  const hi = r.phases[`${key}${WARM_RANGE.slowest}`];
  return lo === undefined || hi === undefined ? m.toFixed(1) : `${m.toFixed(1)} (${lo.toFixed(1)}-${hi.toFixed(1)})`;
}

function scaleTable(rows: readonly ScaleRow[]): string {
  const f0 = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(0));
  const top = (r: ScaleRow): string =>
    Object.entries(r.phases)
      .filter(([k]) => k.startsWith('rule ') && !k.endsWith(' CPU'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([k, v]) => `${k.slice(5)} ${v.toFixed(0)}`)
      .join(', ');
  return table([
    [
      'nodes',
      'format',
      'MB',
      'js-yaml ms',
      'lint ms',
      'ratio',
      'CPU ratio',
      'lint peak MB',
      'parse',
      'model',
      'data plane',
      'first trace',
      'first trace CPU',
      'warm trace (runs)',
      'warm trace CPU',
      'waited for a core',
      'warm trace, V8 pool = cores (runs)',
      'slowest rules (ms)',
    ],
    ...rows.map((r) => [
      r.size,
      r.format,
      r.fileMB.toFixed(1),
      f0(r.jsYamlMs),
      f0(r.lintMs),
      `${r.ratio.toFixed(1)}x`,
      `${r.cpuRatio.toFixed(1)}x`,
      f0(r.lintPeakMB),
      f0(r.phases.parse),
      f0(r.phases.model),
      f0(r.phases['data plane']),
      f0(r.phases[FIRST]),
      f0(r.phases[`${FIRST} CPU`]),
      warmWithRange(r, WARM),
      r.phases[`${WARM} CPU`] === undefined ? '-' : r.phases[`${WARM} CPU`].toFixed(1),
      f0(r.phases[WAITED]),
      warmWithRange(r, WARM_POOL_SIZED),
      top(r),
    ]),
  ]);
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function main(): number {
  // Settings first: a bad one is said before minutes of measuring, not after.
  const phaseRunCount = phaseRuns();
  const all: Row[] = [];
  for (const size of SIZES) all.push(...measure(size, RUNS));
  all.push(...measurePolicies(Math.min(RUNS, 3)));
  const fmt = (ms: number): string => ms.toFixed(1);
  console.log(`NetPath benchmark: ${RUNS} runs per measurement, Node ${process.version}\n`);
  console.log(
    table([
      ['size', 'measurement', 'median ms', 'p95 ms'],
      ...all.map((r) => [r.size, r.what, fmt(median(r.times)), fmt(quantile(r.times, 0.95))]),
    ]),
  );
  console.log('\nScale (each measurement in its own process; lint = netpath lint --format json):');
  const scale = runScale((line) => console.log(line));
  if (scale.length) {
    console.log(`\n${scaleTable(scale)}`);
    console.log(
      `\nNetPath format: each phase the median of ${phaseRunCount} runs of its child, the warm trace's fastest and slowest` +
        ' runs in brackets; "waited for a core": ms the trace waited in the run queue over the nine warm traces.',
    );
  }
  const editor = runEditorBench((line) => console.log(line));
  console.log('\nTargets (median):');
  let failed = 0;
  const lines: string[][] = [['target', 'limit', 'measured', 'result']];
  for (const t of TARGETS) {
    const row = all.find((r) => r.size.startsWith(`${t.size} `) && r.what === t.what);
    const m = row ? median(row.times) : NaN;
    const ok = m <= t.maxMs;
    if (!ok) failed++;
    lines.push([t.name, `${t.maxMs} ms`, `${fmt(m)} ms`, ok ? 'PASS' : 'FAIL']);
  }
  for (const t of SCALE_TARGETS) {
    const row = scale.find((r) => r.size === t.size && r.format === t.format);
    if (!row) continue;
    const v = t.value(row);
    const ok = v <= t.max;
    if (!ok) failed++;
    lines.push([t.name, `${t.max} ${t.unit}`, `${v?.toFixed(1)} ${t.unit}`, ok ? 'PASS' : 'FAIL']);
  }
  for (const t of EDITOR_TARGETS) {
    const v = editor?.[t.key];
    if (v === undefined) continue;
    const ok = v <= t.maxMs;
    if (!ok) failed++;
    lines.push([t.name, `${t.maxMs} ms`, `${v.toFixed(0)} ms`, ok ? 'PASS' : 'FAIL']);
  }
  console.log(table(lines));
  const out = process.env.BENCH_OUT ?? 'test-output/bench/results.json';
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        commit: commit(),
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        loadavg: loadavg(),
        runs: RUNS,
        micro: all.map((r) => ({
          size: r.size,
          what: r.what,
          medianMs: median(r.times),
          p95Ms: quantile(r.times, 0.95),
        })),
        scale,
        editor: editor ?? null,
      },
      null,
      2,
    )}\n`,
  );
  console.log(
    `\nResults written to ${out} (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}).`,
  );
  console.log(failed ? `\n${failed} target(s) failed` : '\nall targets pass');
  return failed ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (err) {
  // A bad setting (e.g. BENCH_PHASE_RUNS) is one line, not a stack.
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
