/**
 * The scale section of `npm run bench` (issue 16): the four cluster sizes up to Kubernetes' tested limits, each
 * as a NetPath topology and as a kubectl List dump (and, up to 1,000 nodes, the NetPath topology with kube-proxy in
 * nftables mode), written to a temporary folder; for each, js-yaml's load of
 * the file, NetPath's full lint of it (what `netpath lint --format json` does), and the same work phase by phase
 * (parse, model, data plane, each rule, the first trace and warm traces), every one in a process of its own so
 * its peak memory is its own.
 *
 * BENCH_SCALE=100,500 picks sizes by name; BENCH_SCALE=none skips the section.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubernetesList, netpathCluster, netpathNftablesCluster, SCALE_SIZES, type ClusterSize } from './cluster';

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
} as const;

/**
 * kube-proxy's nftables mode up to 1,000 nodes: its shared ruleset is still generated and parsed whole on first use
 * (not lazily, as iptables mode's is), which at 5,000 nodes would take much of the bench's time on its own.
 */
const NFTABLES_MAX_NODES = 1000;

function child(mode: string, file: string): Record<string, number> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, 'scale-child.ts'), mode, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, number>;
}

export function selectedSizes(): ClusterSize[] {
  const pick = process.env.BENCH_SCALE;
  if (pick === 'none') return [];
  if (!pick) return [...SCALE_SIZES];
  const names = pick.split(',').map((s) => s.trim());
  return SCALE_SIZES.filter((s) => names.includes(s.name));
}

export function runScale(log: (line: string) => void): ScaleRow[] {
  const dir = join(tmpdir(), `netpath-bench-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const rows: ScaleRow[] = [];
  for (const size of selectedSizes()) {
    const formats = (['netpath', 'kubernetes', 'netpath nftables'] as const).filter(
      (f) => f !== 'netpath nftables' || size.nodes <= NFTABLES_MAX_NODES,
    );
    for (const format of formats) {
      const text = FORMATS[format].write(size);
      const file = join(dir, `cluster-${size.name}${FORMATS[format].ext}`);
      writeFileSync(file, text);
      log(`  ${size.name} nodes, ${format}: ${(text.length / 1e6).toFixed(1)} MB …`);
      const js = child('js-yaml', file);
      const lint = child('lint', file);
      const phases = child('phases', file);
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
