/**
 * One measurement of `npm run bench`'s scale section, in a process of its own so its peak memory is its own.
 * Prints one JSON object on stdout. `npm run bench` runs it bundled, as `netpath` ships (bench/scale.ts); through tsx it
 * runs the same code a little slower in its first second (each module's exports are getters until inlined):
 *
 *   node --import tsx bench/scale-child.ts js-yaml <file>   js-yaml's loadAll of the file
 *   node --import tsx bench/scale-child.ts lint <file>      what `netpath lint --format json <file>` does
 *   node --import tsx bench/scale-child.ts phases <file>    the same work phase by phase, then traces
 */
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { compileDataPlane, traceFlow } from '../src/core';
import { parseYamlFile } from '../src/core/syntax/yaml';
import { buildTopology } from '../src/core/model/build';
import { RULES } from '../src/core/rules';
import { indexRanges } from '../src/core/rules/ranges';
import type { RuleContext } from '../src/core/rules/rule';
import { dataPlaneProblems } from '../src/core/dataplane/problems';
import { lint } from '../src/cli/commands/lint';

const [mode, file] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
const files = [{ path: file, text }];
const out: Record<string, number | string> = {};

/** CPU milliseconds of this process so far (user + system), every thread's. */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/**
 * This thread's time on a core and time waiting in the run queue for one, in milliseconds, from Linux's schedstat
 * (undefined elsewhere). The wait is the time the thread was ready to run and no core was free: on a machine with
 * fewer cores than runnable threads (V8's background compiler and collector beside the trace), the trace's share.
 */
function schedMs(): { readonly run: number; readonly wait: number } | undefined {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { run: run / 1e6, wait: wait / 1e6 } : undefined;
  } catch {
    return undefined;
  }
}

/** Times `f` into `out[what]` (wall) and `out[`${what} CPU`]` (this process's CPU: on a loaded machine, the honest one). */
function time<T>(what: string, f: () => T): T {
  const t0 = performance.now();
  const c0 = cpuMs();
  const v = f();
  out[what] = performance.now() - t0;
  out[`${what} CPU`] = cpuMs() - c0;
  return v;
}

async function main(): Promise<void> {
  // CPU time beside the wall time: on a shared, loaded machine the wall time mostly measures the others.
  const cpu0 = process.cpuUsage();
  const cpu = (): number => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  if (mode === 'js-yaml') {
    time('load', () => loadAll(text));
    out.cpu = cpu();
  } else if (mode === 'lint') {
    // `netpath lint --format json <file>`, in this process: reading the file, analysing it, printing the JSON.
    let printed = 0;
    const t0 = performance.now();
    await lint.run(['--format', 'json', '--max-file-size-kb', '1000000', file], {
      cwd: process.cwd(),
      out: (s) => (printed += s.length),
      err: () => {},
    });
    out.lint = performance.now() - t0;
    out.cpu = cpu();
    out.outputChars = printed;
  } else if (mode === 'phases') {
    const parsed = time('parse', () => [parseYamlFile(file, text)]);
    const built = time('model', () => buildTopology(files, parsed));
    const t = built.topology;
    const texts = new Map([[file, text]]);
    const dp = time('data plane', () => compileDataPlane(t, { files: texts }));
    const ctx: RuleContext = {
      topology: t,
      ranges: time('rule index (ranges)', () => indexRanges(t)),
      dataplane: dp,
      texts,
    };
    for (const rule of RULES) time(`rule ${rule.code}`, () => rule.run(ctx));
    time('data plane problems', () => dataPlaneProblems(t, dp, texts));
    // Traces on a fresh data plane of the analysed model, as `netpath trace` (which analyses first) and the editor
    // (whose traces run in the analysis worker, on the model it analysed) make them: the first compiles what it meets
    // (the rulesets of the nodes it crosses); what the rules compiled for the model itself (kube-proxy's generated
    // lines go with the model's Services) is there already.
    const fresh = compileDataPlane(t, { files: texts });
    const pod = t.pods[0]?.id;
    const svc = t.services[1]?.name;
    if (pod && svc) {
      time('trace (first, compiles what it meets)', () =>
        traceFlow(t, { from: `pod/${pod}`, to: `svc/${svc}:http` }, fresh),
      );
      const warm: number[] = [];
      const warmCpu: number[] = [];
      const cpuBefore = cpuMs();
      const schedBefore = schedMs();
      for (let i = 0; i < 9; i++) {
        const p = t.pods[(i * 7919) % t.pods.length].id;
        const s = t.services[(i * 104729) % t.services.length].name;
        const t0 = performance.now();
        const c0 = cpuMs();
        traceFlow(t, { from: `pod/${p}`, to: `svc/${s}:http` }, fresh);
        warm.push(performance.now() - t0);
        warmCpu.push(cpuMs() - c0);
      }
      const schedAfter = schedMs();
      out['trace (warm, median of 9)'] = warm.sort((a, b) => a - b)[4];
      out['trace (warm, median of 9) CPU'] = warmCpu.sort((a, b) => a - b)[4];
      if (schedBefore && schedAfter) {
        // Over the nine traces: how long the trace's thread waited for a core, and how much CPU the process's other
        // threads (V8's optimising compiler and collector helpers: nothing else runs) took meanwhile.
        out['trace (warm, 9 traces) waited for a core'] = schedAfter.wait - schedBefore.wait;
        out['trace (warm, 9 traces) other threads CPU'] = Math.max(
          0,
          cpuMs() - cpuBefore - (schedAfter.run - schedBefore.run),
        );
      }
    }
    // For the record, not a target: the first trace on a model nothing has read (parsed and built again outside the
    // clock), as the extension host makes when its worker cannot answer: it generates kube-proxy's rules for every
    // Service too.
    const cold = buildTopology(files, [parseYamlFile(file, text)]).topology;
    if (pod && svc)
      time('trace (first, on a model no rule has read)', () =>
        traceFlow(cold, { from: `pod/${pod}`, to: `svc/${svc}:http` }, compileDataPlane(cold, { files: texts })),
      );
  }
}

void main().then(() => {
  out.peakMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
