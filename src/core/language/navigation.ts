/** Go to Definition and Find References: queries over the occurrence list of an analysis. */
import type { Span } from '../problem';
import type { Analysis } from '../analysis';
import { collectOccurrences, occurrencesAt, type Occurrence } from './occurrences';

const cache = new WeakMap<Analysis, readonly Occurrence[]>();

/** Every definition and reference of an analysis, computed once per analysis. */
export function occurrencesOf(analysis: Analysis): readonly Occurrence[] {
  let all = cache.get(analysis);
  if (!all) {
    all = collectOccurrences(analysis);
    cache.set(analysis, all);
  }
  return all;
}

const key = (s: Span) => `${s.file}\n${s.start}\n${s.end}`;

function unique(spans: Span[]): Span[] {
  const seen = new Set<string>();
  return spans.filter((s) => !seen.has(key(s)) && seen.add(key(s)));
}

const order = (a: Span, b: Span) => a.file.localeCompare(b.file) || a.start - b.start;

/**
 * Where the value under the cursor is defined: a pod's node, an interface's or external's network, a
 * route's device, the pods a selector entry selects, an included file (its first character), the
 * container ports a named targetPort stands for. Empty when the cursor is on no reference.
 */
export function definitionsAt(analysis: Analysis, file: string, offset: number): Span[] {
  const all = occurrencesOf(analysis);
  const ids = new Set(
    occurrencesAt(all, file, offset)
      .filter((o) => o.role === 'reference')
      .map((o) => o.id),
  );
  return unique(all.filter((o) => o.role === 'definition' && ids.has(o.id)).map((o) => o.span)).sort(order);
}

/**
 * The places that refer to what is under the cursor (a definition, or a reference to one): the pods on
 * a node, the interfaces on a network, the selectors that use a label or select a pod.
 */
export function referencesAt(analysis: Analysis, file: string, offset: number, includeDeclaration = false): Span[] {
  const all = occurrencesOf(analysis);
  const ids = new Set(occurrencesAt(all, file, offset).map((o) => o.id));
  if (!ids.size) return [];
  return unique(
    all
      .filter((o) => ids.has(o.id) && (o.role !== 'definition' || (includeDeclaration && o.span.end > o.span.start)))
      .map((o) => o.span),
  ).sort(order);
}
