/**
 * What the fuzz tests feed the pipeline and what they run on it. The corpus is every YAML file of examples/ and
 * test/fixtures/; mutations are the ones a hand-edited file really goes through (a value of the wrong type, an
 * address with a wrong digit, a key dropped or written twice, a file cut short, stray control characters).
 *
 * `NETPATH_FUZZ_RUNS` (a number) runs more cases than the unit tier's default; `NETPATH_FUZZ_SEED` replays a
 * failure (fast-check prints the seed and path of every counterexample).
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import {
  analyse,
  compileDataPlane,
  completionsAt,
  definitionsAt,
  destinationChoices,
  documentSymbols,
  hoverAt,
  referencesAt,
  sourceChoices,
  traceFlow,
  traceLenses,
  nodeRulesText,
  type SourceFile,
} from '../../../src/core';

const ROOT = path.resolve(__dirname, '../../..');

function yamlUnder(dir: string, out: string[]): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yamlUnder(p, out);
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out;
}

/**
 * Every example and fixture, as the groups of files analysed together (the YAML files of one folder), each file by
 * its path relative to the repository.
 */
export const CORPUS: readonly (readonly SourceFile[])[] = (() => {
  const groups = new Map<string, SourceFile[]>();
  for (const p of [...yamlUnder(path.join(ROOT, 'examples'), []), ...yamlUnder(path.join(ROOT, 'test/fixtures'), [])]) {
    const dir = path.dirname(p);
    if (!groups.has(dir)) groups.set(dir, []);
    groups.get(dir)?.push({ path: `/${path.relative(ROOT, p)}`, text: fs.readFileSync(p, 'utf8') });
  }
  return [...groups.values()];
})();

/** fast-check parameters: a bounded number of runs in the unit tier, a replayable seed when one is given. */
export function params(runs: number): fc.Parameters<unknown> {
  const seed = process.env.NETPATH_FUZZ_SEED;
  const more = Number(process.env.NETPATH_FUZZ_RUNS);
  return {
    numRuns: Number.isFinite(more) && more > 0 ? more : runs,
    ...(seed ? { seed: Number(seed) } : {}),
  };
}

/** The unit tier's bound on one fuzz test; none when NETPATH_FUZZ_RUNS asks for a longer run (it may take minutes). */
export function fuzzTimeout(): number {
  return Number(process.env.NETPATH_FUZZ_RUNS) > 0 ? 0 : 120000;
}

const controls = fc.constantFrom(
  '\u001b[2J',
  '\u001b]0;title\u0007',
  '\u0000',
  '\u009b',
  '\u202e',
  '\r',
  '\t',
  '\u007f',
);

/** Words every JavaScript object answers to: as a key or value they must be only words (issue 17). */
const inheritedWords = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf');

/** A value of another type than the one there, as YAML text. */
const otherValue = fc.oneof(
  fc.constantFrom('[]', '{}', 'null', '~', 'true', '-1', '0', '99999999999', '1e400', '.nan', '"', "'x", '&a', '*a'),
  fc.constantFrom('[a, {b: c}]', '{x: [1, 2]}', '10.244.1.1x', '::gg', '300.1.1.1/8', '10.0.0.0/33', '65536'),
  fc.string({ maxLength: 12 }),
  inheritedWords,
);

/** One mutation of a text, as data (so a counterexample prints what was done); {@link mutate} applies it. */
export type Mutation =
  | { readonly cut: number }
  | { readonly retype: number; readonly value: string }
  | { readonly digit: number; readonly to: string }
  | { readonly drop: number }
  | { readonly duplicate: number }
  | { readonly rekey: number; readonly to: string }
  | { readonly insert: number; readonly control: string };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Cut the file at a random byte.
  fc.record({ cut: fc.double({ min: 0, max: 1, noNaN: true }) }),
  // Change one value to another type (or to garbage).
  fc.record({ retype: fc.nat(), value: otherValue }),
  // Change one digit of an address or a number.
  fc.record({ digit: fc.nat(), to: fc.constantFrom('0', '1', '9', 'x', '', '.', ':', '/', '99', '-') }),
  // Drop a line (a key and its value, or an item).
  fc.record({ drop: fc.nat() }),
  // Duplicate a line (a duplicate key, a repeated item).
  fc.record({ duplicate: fc.nat() }),
  // Stray control characters or bidi overrides in a name.
  fc.record({ insert: fc.nat(), control: controls }),
  // A key (a label's, a selector's, a field's) renamed to a word every object answers to.
  fc.record({ rekey: fc.nat(), to: inheritedWords }),
);

export function mutate(t: string, m: Mutation): string {
  if ('cut' in m) return t.slice(0, Math.floor(t.length * m.cut));
  if ('retype' in m) {
    const spots = [...t.matchAll(/: ([^\n#]+)/g)];
    if (!spots.length) return t;
    const s = spots[m.retype % spots.length];
    const at = (s.index ?? 0) + 2;
    return t.slice(0, at) + m.value + t.slice(at + s[1].length);
  }
  if ('digit' in m) {
    const digits = [...t.matchAll(/\d/g)];
    if (!digits.length) return t;
    const at = digits[m.digit % digits.length].index ?? 0;
    return t.slice(0, at) + m.to + t.slice(at + 1);
  }
  if ('rekey' in m) {
    const keys = [...t.matchAll(/([A-Za-z_][\w./-]*):(?=\s)/g)];
    if (!keys.length) return t;
    const k = keys[m.rekey % keys.length];
    const at = k.index ?? 0;
    return t.slice(0, at) + m.to + t.slice(at + k[1].length);
  }
  if ('insert' in m) {
    const at = t.length ? m.insert % t.length : 0;
    return t.slice(0, at) + m.control + t.slice(at);
  }
  const lines = t.split('\n');
  if ('drop' in m) lines.splice(m.drop % lines.length, 1);
  else {
    const i = m.duplicate % lines.length;
    lines.splice(i, 0, lines[i]);
  }
  return lines.join('\n');
}

/** 1 to 4 mutations, one after the other. */
export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

/** Endpoints of every shape the tracer reads, including ones that name nothing. */
export const randomEndpoint = fc.oneof(
  fc.constantFrom('pod/x', 'pod/default/x:80', 'svc/x:0', 'node/', 'external/', 'localhost:', ':80', '[::1]:80'),
  fc.constantFrom('10.244.1.1x:80', '10.0.0.1:99999', '0.0.0.0:0', '255.255.255.255:65535', 'fd00::1', '[fd00::1]:1'),
  fc.string({ maxLength: 20 }),
);

/**
 * Runs everything a user can reach on `files`: analyse (every rule), every node's ruleset text, traceFlow for
 * `traces` endpoint pairs (picked from the catalog or made up), hover, completion, symbols, definitions, references
 * and CodeLens at `offsets`. Throws only when the pipeline does.
 */
export function exercise(
  files: readonly SourceFile[],
  picks: {
    readonly traces: readonly (readonly [number | string, number | string, boolean])[];
    readonly offsets: readonly number[];
  },
): void {
  const analysis = analyse(files);
  const texts = new Map(files.map((f) => [f.path, f.text]));
  const dp = compileDataPlane(analysis.topology, { files: texts });
  for (const n of analysis.topology.nodes.slice(0, 3)) nodeRulesText(analysis.topology, n.name);
  const sources = sourceChoices(analysis.topology).map((c) => c.endpoint);
  for (const [from, to, reply] of picks.traces) {
    const f = typeof from === 'number' ? (sources.length ? sources[from % sources.length] : 'pod/x') : from;
    const destinations = destinationChoices(analysis.topology, f).map((c) => c.endpoint);
    const d = typeof to === 'number' ? (destinations.length ? destinations[to % destinations.length] : 'pod/x:1') : to;
    traceFlow(analysis.topology, { from: f, to: d, ...(reply ? { reply } : {}) }, dp);
  }
  for (const f of files) {
    documentSymbols(analysis, f.path);
    traceLenses(analysis, f.path);
    for (const o of picks.offsets) {
      const offset = f.text.length ? o % (f.text.length + 1) : 0;
      hoverAt(analysis, f.path, offset);
      completionsAt(analysis, f.path, f.text, offset);
      definitionsAt(analysis, f.path, offset);
      referencesAt(analysis, f.path, offset, true);
    }
  }
}

/** Trace picks: indexes into the catalog's choices (most of them) or made-up endpoints. */
export const tracePicks = fc.array(
  fc.tuple(fc.oneof(fc.nat(), fc.nat(), randomEndpoint), fc.oneof(fc.nat(), fc.nat(), randomEndpoint), fc.boolean()),
  { maxLength: 3 },
);
export const offsets = fc.array(fc.nat(), { minLength: 1, maxLength: 4 });
