/** Lenient readers over YAML nodes: wrong types read as absent (the schema check reports them). */
import type { Span } from '../problem';
import { get, scalarText, type YMap, type YNode } from '../syntax/yaml';
import { isPlainNull, resolvePlain } from '../syntax/plain';

export const str = (node: YNode | undefined): string | undefined => scalarText(node);

export function int(node: YNode | undefined): number | undefined {
  return node?.kind === 'scalar' ? intOf(node.value) : undefined;
}

function intOf(value: string | number | boolean | null): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

export function bool(node: YNode | undefined): boolean | undefined {
  if (node?.kind !== 'scalar') return undefined;
  if (typeof node.value === 'boolean') return node.value;
  return undefined;
}

// The same readers for entry `i` of a mapping, and for a field by key: a value the mapping keeps as text (a plain
// scalar of the fast reader, see nodes.ts) is read from its text with no node made. A cluster's pods are most of a
// file and the model reads every field of each: a node per value was most of the model's garbage.

/** `str(map.valueAt(i))`. A plain scalar's text is its source: null only when it resolves to null. */
export function strAt(map: YMap, i: number): string | undefined {
  const plain = map.plainAt(i);
  if (plain === undefined) return scalarText(map.valueAt(i));
  return isPlainNull(plain) ? undefined : plain;
}

/** `int(map.valueAt(i))`. */
export function intAt(map: YMap, i: number): number | undefined {
  const plain = map.plainAt(i);
  return plain === undefined ? int(map.valueAt(i)) : intOf(resolvePlain(plain));
}

/** `bool(map.valueAt(i))`. */
export function boolAt(map: YMap, i: number): boolean | undefined {
  const plain = map.plainAt(i);
  if (plain === undefined) return bool(map.valueAt(i));
  const value = resolvePlain(plain);
  return typeof value === 'boolean' ? value : undefined;
}

/** The value of entry `i` when it is a scalar (undefined when it is a collection, or for -1: no entry). */
export function scalarAt(map: YMap, i: number): string | number | boolean | null | undefined {
  if (i < 0) return undefined;
  const plain = map.plainAt(i);
  if (plain !== undefined) return resolvePlain(plain);
  const node = map.valueAt(i);
  return node.kind === 'scalar' ? node.value : undefined;
}

/**
 * Entry `i`'s value when it may be a collection (undefined for a value kept as text, which no collection reader
 * reads, and for -1: no entry).
 */
export function collectionAt(map: YMap, i: number): YNode | undefined {
  return i < 0 || map.plainAt(i) !== undefined ? undefined : map.valueAt(i);
}

/** `str(get(node, key))`. */
export function getStr(node: YNode | undefined, key: string): string | undefined {
  if (node?.kind !== 'map') return undefined;
  const i = node.indexOf(key);
  return i < 0 ? undefined : strAt(node, i);
}

/** `int(get(node, key))`. */
export function getInt(node: YNode | undefined, key: string): number | undefined {
  if (node?.kind !== 'map') return undefined;
  const i = node.indexOf(key);
  return i < 0 ? undefined : intAt(node, i);
}

/** `bool(get(node, key))`. */
export function getBool(node: YNode | undefined, key: string): boolean | undefined {
  if (node?.kind !== 'map') return undefined;
  const i = node.indexOf(key);
  return i < 0 ? undefined : boolAt(node, i);
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
    const v = strAt(node, i);
    // A key written twice (yaml.duplicate-key) is read as its first value, like every other reader here.
    if (v !== undefined && !Object.prototype.hasOwnProperty.call(out, key)) out[key] = v;
  }
  return out;
}

export { get };
