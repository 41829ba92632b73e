/**
 * YAML with offsets. Wraps the `yaml` library so the rest of the core reads documents as plain values
 * while keeping, for every mapping key and value, the offset span it came from.
 *
 * Parsing never throws: syntax errors become `yaml.syntax` problems, and the library's error recovery
 * keeps whatever it could read from the rest of the file.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseAllDocuments, type Node as YamlNode } from 'yaml';
import { problem, type Problem, type Span } from '../problem';
import { readFastYaml } from './fast-yaml';
import { MapNode, ScalarNode, SeqNode } from './nodes';
import { work } from '../work';

/** A YAML node the model builder reads: its plain value plus where it is. */
export type YNode = YMap | YSeq | YScalar;

interface YBase {
  readonly span: Span;
}
export interface YScalar extends YBase {
  readonly kind: 'scalar';
  readonly value: string | number | boolean | null;
  /** The source text of the scalar (for numbers: as written). */
  readonly source: string;
}
export interface YSeq extends YBase {
  readonly kind: 'seq';
  readonly items: readonly YNode[];
}
export interface YEntry {
  readonly key: string;
  readonly keySpan: Span;
  readonly value: YNode;
}
export interface YMap extends YBase {
  readonly kind: 'map';
  /** Made on each read (see nodes.ts): keep the array while you loop over it. */
  readonly entries: readonly YEntry[];
  /**
   * The number of entries, and each entry's key and value by index, with no entry object made (a plain scalar value
   * of the fast reader is made into its node on each read: keep the node while you use it).
   */
  readonly size: number;
  keyAt(i: number): string;
  valueAt(i: number): YNode;
  /**
   * The text of entry `i`'s value when the mapping keeps it as text (a plain scalar of the fast reader), to be read
   * with `resolvePlain` and no node made; undefined when the value is a node (then read it with `valueAt`).
   */
  plainAt(i: number): string | undefined;
  /** The span of entry `i`'s value (`valueAt(i).span`), with no node made for a value kept as text. */
  valueSpanAt(i: number): Span;
  /** The index of the first entry with `key`, or -1. */
  indexOf(key: string): number;
  entryAt(i: number): YEntry;
  /** The value of the first entry with `key`, with no entry object made. */
  lookup(key: string): YNode | undefined;
  entry(key: string): YEntry | undefined;
}

export interface YDocument {
  readonly file: string;
  readonly index: number;
  readonly root: YNode | undefined;
  readonly span: Span;
}

export interface ParsedFile {
  readonly file: string;
  readonly documents: readonly YDocument[];
  readonly problems: readonly Problem[];
}

function spanOf(file: string, node: YamlNode | null | undefined, fallback: number): Span {
  const range = node?.range;
  if (!range) return { file, start: fallback, end: fallback };
  return { file, start: range[0], end: range[1] };
}

/** Collections nested deeper than this are read as empty, with one `yaml.too-deep` warning per document. */
export const MAX_YAML_DEPTH = 200;

function convert(file: string, node: unknown, fallback: number, depth: number, problems: Problem[]): YNode {
  if (depth > MAX_YAML_DEPTH) {
    if (!problems.some((p) => p.code === 'yaml.too-deep'))
      problems.push(
        problem(
          'yaml.too-deep',
          'warning',
          `Collections nested more than ${MAX_YAML_DEPTH} deep: NetPath reads what is deeper as empty.`,
          { file, start: fallback, end: fallback + 1 },
        ),
      );
    return new ScalarNode(null, '', file, fallback, fallback);
  }
  if (isMap(node)) {
    const slots: (string | number | YNode)[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : keyNode == null ? '' : String(keyNode);
      const keySpan = spanOf(file, keyNode, fallback);
      const value =
        pair.value == null
          ? new ScalarNode(null, '', file, keySpan.end, keySpan.end)
          : convert(file, pair.value, keySpan.end, depth + 1, problems);
      slots.push(key, value, keySpan.start, keySpan.end);
    }
    const span = spanOf(file, node, fallback);
    return new MapNode(slots, file, span.start, span.end);
  }
  if (isSeq(node)) {
    const span = spanOf(file, node, fallback);
    const items = node.items.map((item) => convert(file, item, span.start, depth + 1, problems));
    return new SeqNode(items, file, span.start, span.end);
  }
  if (isScalar(node)) {
    const v = node.value;
    const value =
      typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? v : String(v);
    const span = spanOf(file, node, fallback);
    const source = node.source !== undefined ? String(node.source) : String(v);
    return new ScalarNode(value, source, file, span.start, span.end);
  }
  // Aliases are not followed (a few lines of nested aliases expand to billions of nodes: "billion laughs"); they
  // and other node kinds are read as null, and the model reports a type problem where it needs a value.
  if (isAlias(node) && problems.filter((p) => p.code === 'yaml.alias').length < 20)
    problems.push(
      problem(
        'yaml.alias',
        'warning',
        `NetPath does not follow YAML aliases (*${node.source}): the value here is read as empty. Write the value out.`,
        spanOf(file, node as unknown as YamlNode, fallback),
      ),
    );
  const span = spanOf(file, node as YamlNode, fallback);
  return new ScalarNode(null, '', file, span.start, span.end);
}

/**
 * Parses every document of a YAML file. Never throws. Files in the common subset (fast-yaml.ts) are read by
 * the fast reader; the rest, and every file with a syntax error, by the `yaml` library.
 */
export function parseYamlFile(file: string, text: string): ParsedFile {
  work.yamlTextsParsed++;
  const fast = readFastYaml(file, text);
  const parsed = fast ? { file, documents: fast.documents, problems: [] } : parseYamlFileWithLibrary(file, text);
  // The fast reader noted whether any mapping repeats a key: without one, the tree needs no walk of its own.
  const duplicates = fast && !fast.duplicateKeys ? [] : duplicateKeys(parsed.documents);
  return duplicates.length ? { ...parsed, problems: [...parsed.problems, ...duplicates] } : parsed;
}

/**
 * A key written twice in one mapping: the API server's strict decoding rejects the object ("duplicate field"),
 * and tools disagree on which value wins. Reported at the second key; NetPath reads the first. One pass over
 * the tree, iterative so deep documents cannot overflow the stack.
 */
function duplicateKeys(documents: readonly YDocument[]): Problem[] {
  const out: Problem[] = [];
  const stack: YNode[] = documents.flatMap((d) => (d.root ? [d.root] : []));
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.kind === 'seq') {
      for (const item of node.items) if (item.kind !== 'scalar') stack.push(item);
    } else if (node.kind === 'map') {
      const size = node.size;
      // Most mappings hold a handful of keys: comparing each with those before it allocates nothing, where a Map
      // per mapping was most of this pass's time on a cluster dump (a million small mappings).
      const seen = size > SMALL_MAP ? new Map<string, number>() : undefined;
      for (let i = 0; i < size; i++) {
        const key = node.keyAt(i);
        const first = seen ? seen.get(key) : firstBefore(node, i);
        if (first !== undefined && first >= 0) out.push(duplicateKey(node.entryAt(i), node.entryAt(first)));
        else seen?.set(key, i);
        const value = node.valueAt(i);
        if (value.kind !== 'scalar') stack.push(value);
      }
    }
  }
  return out.sort((a, b) => a.span.start - b.span.start);
}

/** Up to this many entries a mapping's keys are compared pairwise; past it, through a Map. */
const SMALL_MAP = 16;

/** The index of the first entry before `i` with entry `i`'s key, or -1. */
function firstBefore(map: YMap, i: number): number {
  const key = map.keyAt(i);
  for (let j = 0; j < i; j++) if (map.keyAt(j) === key) return j;
  return -1;
}

function duplicateKey(e: YEntry, first: YEntry): Problem {
  return problem(
    'yaml.duplicate-key',
    'error',
    `The key '${e.key}' is written twice in this mapping: the API server rejects the object, and tools disagree on which value counts. NetPath reads the first.`,
    e.keySpan,
    [{ span: first.keySpan, message: `first '${e.key}'` }],
  );
}

/** The general reader: the `yaml` library, with its error recovery. */
export function parseYamlFileWithLibrary(file: string, text: string): ParsedFile {
  const problems: Problem[] = [];
  const documents: YDocument[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text, {
      prettyErrors: false,
      uniqueKeys: false,
      strict: false,
      version: '1.2',
      customTags: [],
    });
  } catch (e) {
    problems.push(
      problem('yaml.syntax', 'error', `YAML could not be read: ${e instanceof Error ? e.message : String(e)}`, {
        file,
        start: 0,
        end: Math.min(text.length, 1),
      }),
    );
    return { file, documents, problems };
  }
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, index) => {
    for (const err of doc.errors) {
      const [start, end] = err.pos;
      problems.push(
        problem('yaml.syntax', 'error', `YAML syntax: ${err.message.split('\n')[0]}`, {
          file,
          start,
          end: Math.max(end, start + 1),
        }),
      );
    }
    const range = doc.range ?? [0, text.length, text.length];
    const span = { file, start: range[0], end: range[2] ?? range[1] };
    const root = doc.contents == null ? undefined : convert(file, doc.contents, range[0], 0, problems);
    documents.push({ file, index, root, span });
  });
  return { file, documents, problems };
}

// Small readers used by the model builder.

export function entry(map: YMap, key: string): YEntry | undefined {
  return map.entry(key);
}

export function get(node: YNode | undefined, key: string): YNode | undefined {
  // The model reads every field through here: a plain loop over the mapping's slots, no entry made per lookup.
  return node?.kind === 'map' ? node.lookup(key) : undefined;
}

export function getPath(node: YNode | undefined, ...keys: string[]): YNode | undefined {
  let cur = node;
  for (const k of keys) cur = get(cur, k);
  return cur;
}

export function scalarText(node: YNode | undefined): string | undefined {
  if (node?.kind !== 'scalar' || node.value === null) return undefined;
  return typeof node.value === 'string' ? node.value : node.source || String(node.value);
}
