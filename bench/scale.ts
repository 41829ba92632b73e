/**
 * The scale section of `npm run bench` (issue 16): the four cluster sizes up to Kubernetes' tested limits, each as a
 * NetPath topology, as a kubectl List dump, as the NetPath topology with its Service range moved inside the pod range
 * (a finding with a quick fix on every node and Service) and, up to 1,000 nodes, as the NetPath topology with
 * kube-proxy in nftables mode, written to a temporary folder; for each, js-yaml's load of the file, NetPath's full
 * lint of it (what `netpath lint --format json` does), and the same work phase by phase (parse, model, data plane,
 * each rule, the first trace and warm traces), every one in a process of its own so its peak memory is its own.
 *
 * BENCH_SCALE=100,500 picks sizes by name; BENCH_SCALE=none skips the section.
 */
import { execFileSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './stats';
import {
  kubernetesList,
  netpathCluster,
  netpathMisconfiguredCluster,
  netpathNftablesCluster,
  SCALE_SIZES,
  type ClusterSize,
} from './cluster';

export interface ScaleRow {
  readonly size: string;
  readonly nodes: number;
  readonly pods: number;
  readonly services: number;
  readonly format: keyof typeof FORMATS;
  readonly fileMB: number;
  readonly jsYamlMs: number;
  readonly jsYamlPeakMB: number;
  readonly lintMs: number;
  readonly lintPeakMB: number;
  /** lint / js-yaml load. */
  readonly ratio: number;
  /** CPU milliseconds of js-yaml's load and of the lint (the process's user + system time). */
  readonly jsYamlCpuMs: number;
  readonly lintCpuMs: number;
  /** lint / js-yaml load in CPU time: what the ratio would be on an idle machine. */
  readonly cpuRatio: number;
  /** Milliseconds per phase (parse, model, data plane, each rule, traces) and the phase run's peak. */
  readonly phases: Record<string, number>;
}

export const FORMATS = {
  netpath: { ext: '.netpath.yaml', write: netpathCluster },
  kubernetes: { ext: '.yaml', write: kubernetesList },
  'netpath nftables': { ext: '.nftables.netpath.yaml', write: netpathNftablesCluster },
  'netpath, mistake': { ext: '.mistake.netpath.yaml', write: netpathMisconfiguredCluster },
} as const;

/**
 * kube-proxy's nftables mode up to 1,000 nodes: its shared ruleset is still generated and parsed whole on first use
 * (not lazily, as iptables mode's is), which at 5,000 nodes would take much of the bench's time on its own.
 */
const NFTABLES_MAX_NODES = 1000;

/**
 * The scale child as users run NetPath: one esbuild bundle, built as scripts/build.mjs builds dist/cli.js (CommonJS,
 * es2022, every module in one file). Run through tsx instead, each of the core's ~300 modules stays a module of its
 * own, and every call across modules goes through an export getter: in the first second of a process, before the
 * JIT has inlined them, that cost lint about 6% at 1,000 nodes, which `netpath lint` never pays.
 */
function bundleChild(dir: string): string {
  const outfile = join(dir, 'scale-child.cjs');
  buildSync({
    entryPoints: [join(__dirname, 'scale-child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'es2022',
    logLevel: 'warning',
  });
  return outfile;
}

function child(
  bundle: string,
  mode: string,
  file: string,
  nodeOptions: readonly string[] = [],
): Record<string, number> {
  const out = execFileSync(process.execPath, [...nodeOptions, bundle, mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>;
}

/** The phase child's median of the warm traces (bench/scale-child.ts). */
export const WARM = 'trace (warm, median of 9)';

/**
 * The same median, from a second phase run whose V8 has as many background threads as the machine has cores
 * (`--v8-pool-size=0`; Node's default is 4 whatever the cores). On a 2-core machine the default's threads (the
 * optimising compiler's jobs, concurrent marking, the scavenger's helpers) outnumber the cores and take them from the
 * trace while the code is still being optimised: the warm traces then swing between runs (medians of 3.7-7.9 ms for
 * the same code at 100 nodes in December 2026, 3.4-3.5 ms with the pool sized). For comparing commits; the target is
 * judged on the default's figure, which is what a Node process run with no options gives.
 */
export const WARM_POOL_SIZED = 'trace (warm, median of 9), V8 pool sized to the cores';

/**
 * How many times the NetPath format's phase child runs, each in a fresh process. One run's median of nine warm traces
 * swings more than its targets' margins (at 100 nodes, 3.4 to 7.2 ms for the same code in December 2026): on a 2-core
 * machine, whether V8's background compiler takes a core from the trace decides it (the child records how long the
 * trace waited for a core). Each figure of the row is the median of the runs; the warm trace's fastest and slowest
 * runs are kept beside it (WARM_RANGE).
 */
export function phaseRuns(): number {
  const given = process.env.BENCH_PHASE_RUNS;
  if (given === undefined) return 5;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`BENCH_PHASE_RUNS must be a whole number of 1 or more, not "${given}"`);
  return n;
}

/** Suffixes of the warm trace's fastest and slowest run medians, when the phase child ran more than once. */
export const WARM_RANGE = { fastest: ', fastest run', slowest: ', slowest run' } as const;

/** The phase child run `runs` times: each of its figures the median of the runs, the warm trace's range beside it. */
function medianRun(
  bundle: string,
  file: string,
  runs: number,
  nodeOptions: readonly string[] = [],
): Record<string, number> {
  const all = Array.from({ length: runs }, () => child(bundle, 'phases', file, nodeOptions));
  const out: Record<string, number> = {};
  for (const key of Object.keys(all[0])) {
    const values = all.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
    if (values.length) out[key] = median(values);
  }
  const warm = all.map((r) => r[WARM]).filter((v): v is number => typeof v === 'number');
  if (all.length > 1 && warm.length) {
    out[`${WARM}${WARM_RANGE.fastest}`] = Math.min(...warm);
    out[`${WARM}${WARM_RANGE.slowest}`] = Math.max(...warm);
  }
  return out;
}

export function selectedSizes(): ClusterSize[] {
  const pick = process.env.BENCH_SCALE;
  if (pick === 'none') return [];
  if (!pick) return [...SCALE_SIZES];
  const names = pick.split(',').map((s) => s.trim());
  return SCALE_SIZES.filter((s) => names.includes(s.name));
}

export function runScale(log: (line: string) => void): ScaleRow[] {
  const phaseRunCount = phaseRuns();
  const dir = join(tmpdir(), `netpath-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const bundle = bundleChild(dir);
  const rows: ScaleRow[] = [];
  for (const size of selectedSizes()) {
    const formats = (['netpath', 'kubernetes', 'netpath nftables', 'netpath, mistake'] as const).filter(
      (f) => f !== 'netpath nftables' || size.nodes <= NFTABLES_MAX_NODES,
    );
    for (const format of formats) {
      const text = FORMATS[format].write(size);
      const file = join(dir, `cluster-${size.name}${FORMATS[format].ext}`);
      writeFileSync(file, text);
      log(`  ${size.name} nodes, ${format}: ${(text.length / 1e6).toFixed(1)} MB …`);
      const js = child(bundle, 'js-yaml', file);
      const lint = child(bundle, 'lint', file);
      // The trace targets are judged on the NetPath format: its phase child runs phaseRuns() times (see there).
      const runs = format === 'netpath' ? phaseRunCount : 1;
      const phases = medianRun(bundle, file, runs);
      if (format === 'netpath') {
        // The warm traces again with V8's background threads as many as the cores (see WARM_POOL_SIZED).
        const sized = medianRun(bundle, file, runs, ['--v8-pool-size=0']);
        for (const [k, v] of Object.entries(sized))
          if (k.startsWith(WARM)) phases[k.replace(WARM, WARM_POOL_SIZED)] = v;
      }
      rows.push({
        size: size.name,
        nodes: size.nodes,
        pods: size.pods,
        services: size.services,
        format,
        fileMB: text.length / 1e6,
        jsYamlMs: js.load,
        jsYamlPeakMB: js.peakMB,
        lintMs: lint.lint,
        lintPeakMB: lint.peakMB,
        ratio: lint.lint / js.load,
        jsYamlCpuMs: js.cpu,
        lintCpuMs: lint.cpu,
        cpuRatio: lint.cpu / js.cpu,
        phases,
      });
    }
  }
  return rows;
}
