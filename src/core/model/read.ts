/** Lenient readers over YAML nodes: wrong types read as absent (the schema check reports them). */
import type { Span } from '../problem';
import { get, scalarText, type YMap, type YNode } from '../syntax/yaml';

export const str = (node: YNode | undefined): string | undefined => scalarText(node);

export function int(node: YNode | undefined): number | undefined {
  if (node?.kind !== 'scalar') return undefined;
  if (typeof node.value === 'number' && Number.isInteger(node.value)) return node.value;
  if (typeof node.value === 'string' && /^\d+$/.test(node.value)) return Number(node.value);
  return undefined;
}

export function bool(node: YNode | undefined): boolean | undefined {
  if (node?.kind !== 'scalar') return undefined;
  if (typeof node.value === 'boolean') return node.value;
  return undefined;
}

export function list(node: YNode | undefined): readonly YNode[] {
  return node?.kind === 'seq' ? node.items : [];
}

export function map(node: YNode | undefined): YMap | undefined {
  return node?.kind === 'map' ? node : undefined;
}

/** A list of strings with the span of each; also accepts a single string (comma-separated lists are split by callers). */
export function strings(node: YNode | undefined): { value: string; span: Span }[] {
  if (node?.kind === 'scalar') {
    const v = scalarText(node);
    return v === undefined ? [] : [{ value: v, span: node.span }];
  }
  return list(node).flatMap((item) => {
    const v = scalarText(item);
    return v === undefined ? [] : [{ value: v, span: item.span }];
  });
}

export function stringMap(node: YNode | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (node?.kind !== 'map') return out;
  for (let i = 0; i < node.size; i++) {
    const key = node.keyAt(i);
    const v = scalarText(node.valueAt(i));
    // A key written twice (yaml.duplicate-key) is read as its first value, like every other reader here.
    if (v !== undefined && !Object.prototype.hasOwnProperty.call(out, key)) out[key] = v;
  }
  return out;
}

export { get };
