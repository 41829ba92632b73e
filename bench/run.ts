/**
 * `npm run bench`: times the analysis, the data plane and the tracer on synthetic clusters of several sizes and
 * checks the targets of bench/README.md. Performance targets live only here, never in timed unit tests.
 *
 * Each measurement is repeated (fresh inputs each run, so memoised rulesets never carry over) and reported as
 * median and p95. Exit code 1 when a target fails, so CI can run it on demand.
 */
import { analyse, compileDataPlane, nodeRulesText, traceFlow, type Analysis, type DataPlane } from '../src/core';
import { benchTopology, type BenchSize } from './topology';

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

const median = (xs: readonly number[]): number => quantile(xs, 0.5);
function quantile(xs: readonly number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
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
      for (const ns of fresh.namespaces.values()) void ns.rules;
    });
    add(`rulesets of all ${t.nodes.length} nodes (one data plane)`, all);
  }
  return [...rows].map(([what, times]) => ({
    size: `${size.name} (${size.nodes} nodes, ${size.pods} pods, ${size.services} svc)`,
    what,
    times,
  }));
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
];

function table(rows: readonly string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 || i === 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '))
    .join('\n');
}

function main(): number {
  const all: Row[] = [];
  for (const size of SIZES) all.push(...measure(size, RUNS));
  const fmt = (ms: number): string => ms.toFixed(1);
  console.log(`NetPath benchmark: ${RUNS} runs per measurement, Node ${process.version}\n`);
  console.log(
    table([
      ['size', 'measurement', 'median ms', 'p95 ms'],
      ...all.map((r) => [r.size, r.what, fmt(median(r.times)), fmt(quantile(r.times, 0.95))]),
    ]),
  );
  console.log('\nTargets (median):');
  let failed = 0;
  const lines: string[][] = [['target', 'limit ms', 'median ms', 'result']];
  for (const t of TARGETS) {
    const row = all.find((r) => r.size.startsWith(`${t.size} `) && r.what === t.what);
    const m = row ? median(row.times) : NaN;
    const ok = m <= t.maxMs;
    if (!ok) failed++;
    lines.push([t.name, String(t.maxMs), fmt(m), ok ? 'PASS' : 'FAIL']);
  }
  console.log(table(lines));
  console.log(failed ? `\n${failed} target(s) failed` : '\nall targets pass');
  return failed ? 1 : 0;
}

process.exitCode = main();
