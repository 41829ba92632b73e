/**
 * Which pods a side of the reachability matrix shows, in a syntax a kubectl user already knows:
 *
 * - `pod/<namespace>/<name>` (or `pod/<name>` in `default`): one pod;
 * - `ns/<name>`: every pod of a namespace;
 * - `[<namespace>:]<label selector>`: kubectl's selector syntax (`app=web`, `app==web`, `tier!=db`, `app`,
 *   `!canary`, `env in (a,b)`, `env notin (a)`, comma-separated = AND), in one namespace or in all.
 */
import type { LabelSelector, Pod, SelectorRequirement } from '../model/types';
import { selectorMatches } from './selector';

export type PodFilterResult = { readonly filter: (pod: Pod) => boolean } | { readonly error: string };

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Splits on commas that are not inside parentheses. */
function terms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((t) => t.length);
}

/** Parses kubectl's label selector syntax. */
export function parseLabelSelector(text: string): LabelSelector | string {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: SelectorRequirement[] = [];
  for (const t of terms(text)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^\s=!(),]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(t))) {
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length);
      if (!values.length) return `'${t}' needs at least one value`;
      matchExpressions.push({ key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = /^([^\s=!(),]+)\s*!=\s*([^\s=!(),]*)$/.exec(t))) {
      matchExpressions.push({ key: m[1], operator: 'NotIn', values: [m[2]] });
    } else if ((m = /^([^\s=!(),]+)\s*==?\s*([^\s=!(),]*)$/.exec(t))) {
      matchLabels[m[1]] = m[2];
    } else if ((m = /^!\s*([^\s=!(),]+)$/.exec(t))) {
      matchExpressions.push({ key: m[1], operator: 'DoesNotExist', values: [] });
    } else if ((m = /^([^\s=!(),]+)$/.exec(t))) {
      matchExpressions.push({ key: m[1], operator: 'Exists', values: [] });
    } else
      return `'${t}' is not a label selector term (key=value, key!=value, key, !key, key in (a,b), key notin (a,b))`;
  }
  return { matchLabels, matchExpressions, span: { file: '', start: 0, end: 0 } };
}

export function parsePodFilter(text: string): PodFilterResult {
  const t = text.trim();
  if (t.startsWith('pod/')) {
    const parts = t.slice(4).split('/');
    const [namespace, name] = parts.length === 2 ? parts : ['default', parts[0]];
    if (parts.length > 2 || !name) return { error: `'${t}': write pod/<namespace>/<name>` };
    return { filter: (p) => p.namespace === namespace && p.name === name };
  }
  if (t.startsWith('ns/')) {
    const namespace = t.slice(3);
    if (!NAME.test(namespace)) return { error: `'${t}': write ns/<namespace>` };
    return { filter: (p) => p.namespace === namespace };
  }
  const colon = /^([a-z0-9][-a-z0-9]*|\*):(.*)$/.exec(t);
  const namespace = colon && colon[1] !== '*' ? colon[1] : undefined;
  const selector = parseLabelSelector(colon ? colon[2] : t);
  if (typeof selector === 'string') return { error: selector };
  return {
    filter: (p) => (namespace === undefined || p.namespace === namespace) && selectorMatches(selector, p.labels),
  };
}
