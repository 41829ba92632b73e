/**
 * What the editor asks of every analysis without the user asking (the outline and the CodeLens over each pod,
 * Service and NetworkPolicy), computed where the analysis ran: in the analysis worker, which has the model already.
 * VS Code asks for both after every change; computing them on the extension host meant building the model a second
 * time there (seconds for a 15,000-pod file, with the host's thread blocked). Plain data, so it crosses to the
 * extension host by postMessage; language.ts turns it into VS Code's types. No `vscode` import: the worker loads it.
 */
import { documentSymbols, traceLenses, type Analysis, type DocumentSymbol, type Span, type Topology } from '../core';

/** One CodeLens, before it is given its file's URI: a trace from or to an endpoint, or a policy's reachability. */
export type LensData =
  | {
      readonly kind: 'trace';
      readonly span: Span;
      readonly title: string;
      readonly from?: string;
      readonly to?: string;
    }
  | {
      readonly kind: 'reachability';
      readonly span: Span;
      /** The side of the matrix the policy's namespace is on: destinations when the policy isolates ingress. */
      readonly side: 'to' | 'from';
      readonly namespace: string;
    };

export interface FileFeatures {
  readonly symbols: readonly DocumentSymbol[];
  readonly lenses: readonly LensData[];
}

/**
 * The most lenses one file gets. Each lens is a zone above its line that the editor moves on every key typed in the
 * file: a 15,000-pod file's 30,000 lenses made each key about 30 ms slower to appear (the editor bench, with lenses
 * on and off), and doubled the file's height on screen. Above this, the file gets one lens that asks for both ends
 * (the Trace Packet command), and the outline still lists every pod and Service.
 */
export const MAX_LENSES_PER_FILE = 2000;

/**
 * The most outline entries one file gets. The workbench rebuilds the outline behind the breadcrumbs and the sticky
 * scroll from every entry after each change: with a 15,000-pod file's 17,000 entries, Show Topology took 5.0 s in
 * the editor bench and 2.6 s with breadcrumbs and sticky scroll off (its command palette waited for the workbench).
 */
export const MAX_OUTLINE_SYMBOLS = 5000;

/** A list longer than this is not expanded in a file's outline once the file is over MAX_OUTLINE_SYMBOLS. */
export const MAX_OUTLINE_MEMBERS = 1000;

const countSymbols = (symbols: readonly DocumentSymbol[]): number =>
  symbols.reduce((n, s) => n + 1 + countSymbols(s.children), 0);

/**
 * A file's outline, whole unless it has more than MAX_OUTLINE_SYMBOLS entries. Then, until it fits: the entries
 * three levels down keep no members (a pod's containers, a node's interfaces); a list of more than
 * MAX_OUTLINE_MEMBERS members (the pods of a big cluster) shows its count instead of its members; the top entries
 * keep no members (a kubectl dump lists each of its objects at the top: they are all still listed).
 */
export function outlineOf(symbols: readonly DocumentSymbol[]): readonly DocumentSymbol[] {
  if (countSymbols(symbols) <= MAX_OUTLINE_SYMBOLS) return symbols;
  const pruned = (s: DocumentSymbol, depth: number): DocumentSymbol =>
    depth >= 3 ? { ...s, children: [] } : { ...s, children: s.children.map((c) => pruned(c, depth + 1)) };
  const shallow = symbols.map((s) => pruned(s, 1));
  if (countSymbols(shallow) <= MAX_OUTLINE_SYMBOLS) return shallow;
  const folded = (s: DocumentSymbol): DocumentSymbol =>
    s.children.length > MAX_OUTLINE_MEMBERS
      ? {
          ...s,
          detail: `${s.detail ? `${s.detail}, ` : ''}not listed: over ${MAX_OUTLINE_MEMBERS.toLocaleString('en-US')}`,
          children: [],
        }
      : { ...s, children: s.children.map(folded) };
  const short = shallow.map(folded);
  return countSymbols(short) <= MAX_OUTLINE_SYMBOLS ? short : short.map((s) => ({ ...s, children: [] }));
}

/** The outline and lenses of one file of an analysis. */
export function fileFeatures(analysis: Analysis, file: string): FileFeatures {
  // Over each NetworkPolicy: the matrix of its namespace (as destinations when it isolates ingress).
  const reachability: LensData[] = analysis.topology.networkPolicies
    .filter((p) => p.span.file === file)
    .map((p) => ({
      kind: 'reachability',
      span: p.spans.name ?? p.span,
      side: p.policyTypes.includes('Ingress') ? 'to' : 'from',
      namespace: p.namespace,
    }));
  const symbols = outlineOf(documentSymbols(analysis, file));
  // Counted from the model first: a large file's lenses are not worth making (1.5 s for 15,000 pods on a busy
  // machine, in the worker, which a newer edit's analysis waits behind).
  const planned = traceLensesPlanned(analysis.topology, file);
  if (reachability.length + planned.count > MAX_LENSES_PER_FILE && planned.first)
    return { symbols, lenses: [oneLens(planned.first, reachability.length + planned.count)] };
  const traces: LensData[] = traceLenses(analysis, file).map((l) => ({ kind: 'trace', ...l }));
  return { symbols, lenses: [...reachability, ...traces] };
}

/**
 * How many trace lenses traceLenses gives a file (two per pod and external, one per Service port, one for a Service
 * without ports), and where the first endpoint is defined.
 */
export function traceLensesPlanned(t: Topology, file: string): { count: number; first: Span | undefined } {
  let count = 0;
  let first: Span | undefined;
  const at = (span: Span) => {
    if (!first || span.start < first.start) first = span;
  };
  for (const p of t.pods)
    if (p.span.file === file) {
      count += 2;
      at(p.spans.name ?? p.span);
    }
  for (const x of t.externals)
    if (x.span.file === file) {
      count += 2;
      at(x.spans.name ?? x.span);
    }
  for (const s of t.services)
    if (s.span.file === file) {
      count += Math.max(1, s.ports.length);
      at(s.spans.name ?? s.span);
    }
  return { count, first };
}

/** A large file's one lens, over its first endpoint: Trace Packet, which asks for the source and the destination. */
function oneLens(span: Span, instead: number): LensData {
  return {
    kind: 'trace',
    span,
    title: `Trace Packet… (per-endpoint lenses are off: ${instead.toLocaleString('en-US')} in this file)`,
  };
}

/** The outline and lenses of every file an analysis read, by path. */
export function allFeatures(analysis: Analysis): Record<string, FileFeatures> {
  const out: Record<string, FileFeatures> = {};
  for (const f of analysis.sources) out[f.path] = fileFeatures(analysis, f.path);
  return out;
}
