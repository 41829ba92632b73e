/**
 * Re-parses only the list item an edit falls in (issue 16: a 15,000-pod file took 140-250 ms to parse again on every
 * key). Sits above the parser's API (src/core/syntax), reading and building the same node classes, so the model and
 * the rules read what a full parse would have given: the test (test/unit/editor/incremental-parse.test.ts) compares
 * the two, spans included, for random edits. No `vscode` import: the analysis worker loads it.
 *
 * When it applies: the last parse read the file cleanly (the fast reader, no problems), and the edit lies inside one
 * block sequence item (`- ...` at some indent k) and the lines after it up to the next line written at or left of
 * column k. Everything outside those lines is the same text, and YAML's block structure is decided by indentation,
 * so the rest of the tree is the same apart from its offsets. The item's lines are read on their own as a document
 * (an indented block sequence), which must come out as exactly one item read by the fast reader with no repeated
 * key; its offsets are moved to where the lines are, the ancestors on its path are made anew around it, and every
 * node after it is moved by the edit's length. In any other case (a new item, an edit across items, an indentation
 * that would end the item, document markers, tabs or CRs) the caller parses the whole file.
 */
import type { ParsedFile, YDocument, YNode } from '../core/syntax/yaml';
import { readFastYaml } from '../core/syntax/fast-yaml';
import { MapNode, ScalarNode, SeqNode } from '../core/syntax/nodes';

/** What {@link reparseEdit} read anew: the item's lines, in characters (the work counted by the tests and the log). */
export interface Reparsed {
  readonly parsed: ParsedFile;
  readonly charsRead: number;
}

/** The fast reader gives up past this nesting; the item read on its own sits shallower, so stay well inside it. */
const SAFE_DEPTH = 120;

const NL = 10;
/** Characters compared at a time while looking for where two texts differ. */
const BLOCK = 4096;
const SP = 32;

/** Offset just past the line holding `at` (past its newline), or the text's length. */
function lineEndAfter(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
}

/** The column of a line's first character other than a space, or -1 for a blank line. */
function firstColumn(text: string, lineStart: number): number {
  let p = lineStart;
  while (p < text.length && text.charCodeAt(p) === SP) p++;
  if (p >= text.length || text.charCodeAt(p) === NL) return -1;
  return p - lineStart;
}

/** A node with every offset moved by `by`. */
function moved(n: YNode, by: number, file: string): YNode {
  if (by === 0 && n.span.file === file) return n;
  switch (n.kind) {
    case 'scalar':
      return new ScalarNode(n.value, n.source, file, n.span.start + by, n.span.end + by);
    case 'seq':
      return new SeqNode(
        n.items.map((i) => moved(i, by, file)),
        file,
        n.span.start + by,
        n.span.end + by,
      );
    case 'map': {
      const slots: (string | number | YNode)[] = [];
      for (let i = 0; i < n.size; i++) {
        const key = n.entryAt(i).keySpan;
        slots.push(n.keyAt(i), moved(n.valueAt(i), by, file), key.start + by, key.end + by);
      }
      return new MapNode(slots, file, n.span.start + by, n.span.end + by);
    }
  }
}

function depthOf(n: YNode): number {
  if (n.kind === 'scalar') return 0;
  let deepest = 0;
  if (n.kind === 'seq') for (const i of n.items) deepest = Math.max(deepest, depthOf(i));
  else for (let i = 0; i < n.size; i++) deepest = Math.max(deepest, depthOf(n.valueAt(i)));
  return deepest + 1;
}

/**
 * The block sequence items holding [from, to), innermost first, each with the collections on its path from the root.
 */
function itemsHolding(root: YNode, from: number, to: number): { parents: (YMap | YSeq)[]; item: YNode }[] {
  const parents: (YMap | YSeq)[] = [];
  const found: { parents: (YMap | YSeq)[]; item: YNode }[] = [];
  let node: YNode = root;
  for (;;) {
    let next: YNode | undefined;
    if (node.kind === 'seq') {
      for (const i of node.items)
        if (i.span.start <= from && to <= i.span.end) {
          next = i;
          found.push({ parents: [...parents, node], item: i });
          break;
        }
    } else if (node.kind === 'map') {
      for (let i = 0; i < node.size && !next; i++) {
        const v = node.valueAt(i);
        if (v.span.start <= from && to <= v.span.end) next = v;
      }
    }
    if (!next || node.kind === 'scalar') return found.reverse();
    parents.push(node);
    node = next;
  }
}

type YMap = Extract<YNode, { kind: 'map' }>;
type YSeq = Extract<YNode, { kind: 'seq' }>;

/**
 * The parse of `text` from the parse of `before` (its text `was`), re-reading only the list item the edit is in;
 * undefined when the edit is not inside one item or the item's lines do not read alone as one item (then parse it
 * all).
 */
export function reparseEdit(file: string, was: string, before: ParsedFile, text: string): Reparsed | undefined {
  if (before.problems.length) return undefined;
  // The edit: the text between the common prefix and the common suffix (compared a block at a time, natively: a
  // loop over each character of a 2.5 MB file took most of this function's time).
  const shorter = Math.min(was.length, text.length);
  let from = 0;
  while (from + BLOCK <= shorter && text.startsWith(was.slice(from, from + BLOCK), from)) from += BLOCK;
  while (from < shorter && was.charCodeAt(from) === text.charCodeAt(from)) from++;
  let tail = 0;
  const room = shorter - from;
  while (
    tail + BLOCK <= room &&
    text.endsWith(was.slice(was.length - tail - BLOCK, was.length - tail), text.length - tail)
  )
    tail += BLOCK;
  while (tail < room && was.charCodeAt(was.length - 1 - tail) === text.charCodeAt(text.length - 1 - tail)) tail++;
  const oldTo = was.length - tail;
  const d = before.documents.findIndex((x) => x.root && x.root.span.start <= from && oldTo <= x.root.span.end);
  const doc = before.documents[d];
  if (!doc?.root) return undefined;
  for (const path of itemsHolding(doc.root, from, oldTo)) {
    const done = reparseItem(file, was, before, text, d, path, from, oldTo);
    if (done) return done;
  }
  return undefined;
}

/** {@link reparseEdit} for one item holding the edit [from, oldTo) of `was`, in document `d`. */
function reparseItem(
  file: string,
  was: string,
  before: ParsedFile,
  text: string,
  d: number,
  path: { parents: (YMap | YSeq)[]; item: YNode },
  from: number,
  oldTo: number,
): Reparsed | undefined {
  const delta = text.length - was.length;
  if (path.parents.length + 1 > SAFE_DEPTH) return undefined;
  const item = path.item;
  // The item's line starts with its dash: `<k spaces>- <item>` (the edit after the dash's line prefix).
  const lineStart = was.lastIndexOf('\n', item.span.start - 1) + 1;
  const prefix = was.slice(lineStart, item.span.start);
  const dash = /^( *)- +$/.exec(prefix);
  if (!dash || from < item.span.start) return undefined;
  const k = dash[1].length;
  // Its lines run on to the next line that is not blank and starts at or left of column k (what ends the item).
  let boundary = lineEndAfter(was, Math.max(item.span.end - 1, item.span.start));
  while (boundary < was.length) {
    const col = firstColumn(was, boundary);
    if (col >= 0 && col <= k) break;
    boundary = lineEndAfter(was, boundary);
  }
  // The item's last line break stays, and an item that runs to the end of the file is left to a full parse (how
  // a document ends there depends on whether the file ends with a line break).
  if (boundary >= was.length || oldTo >= boundary) return undefined;
  const lines = text.slice(lineStart, boundary + delta);
  if (lines.includes('\r') || lines.includes('\t')) return undefined;
  // No line of the new text but the first may start at or left of column k, but a comment: else it ends the item,
  // starts a document, or is a directive.
  for (let p = lineEndAfter(lines, 0); p < lines.length; p = lineEndAfter(lines, p)) {
    const col = firstColumn(lines, p);
    if (col >= 0 && col <= k && lines.charCodeAt(p + col) !== 35) return undefined;
  }
  const alone = readFastYaml(file, lines);
  const seq = alone?.documents.length === 1 ? alone.documents[0].root : undefined;
  if (!alone || alone.duplicateKeys || seq?.kind !== 'seq' || seq.items.length !== 1) return undefined;
  const fresh = moved(seq.items[0], lineStart, file);
  if (path.parents.length + depthOf(fresh) > SAFE_DEPTH) return undefined;
  // Everything after the item's lines moves by the edit's length. The item's sequence, and the ancestors that end
  // with it, end where the sequence read alone ends when the item is its last (a scalar item ends before its line
  // break, the sequence after it), else after the item's lines.
  const after = (n: YNode): YNode => (n.span.start >= boundary ? moved(n, delta, file) : n);
  const parent = path.parents[path.parents.length - 1];
  const last = parent.kind === 'seq' && parent.items[parent.items.length - 1] === item;
  const endOf = (oldEnd: number): number =>
    last && oldEnd === parent.span.end ? seq.span.end + lineStart : oldEnd + delta;
  let child: YNode = fresh;
  let old: YNode = item;
  for (let i = path.parents.length - 1; i >= 0; i--) {
    const p = path.parents[i];
    if (p.kind === 'seq') {
      child = new SeqNode(
        p.items.map((x) => (x === old ? child : after(x))),
        file,
        p.span.start,
        endOf(p.span.end),
      );
    } else {
      const slots: (string | number | YNode)[] = [];
      for (let j = 0; j < p.size; j++) {
        const v = p.valueAt(j);
        const key = p.entryAt(j).keySpan;
        const shift = key.start >= boundary ? delta : 0;
        slots.push(p.keyAt(j), v === old ? child : after(v), key.start + shift, key.end + shift);
      }
      child = new MapNode(slots, file, p.span.start, endOf(p.span.end));
    }
    old = p;
  }
  const documents: YDocument[] = before.documents.map((x, i) =>
    i < d
      ? x
      : i === d
        ? { ...x, root: child, span: { file, start: x.span.start, end: x.span.end + delta } }
        : {
            ...x,
            root: x.root && moved(x.root, delta, file),
            span: { file, start: x.span.start + delta, end: x.span.end + delta },
          },
  );
  return { parsed: { file, documents, problems: [] }, charsRead: lines.length };
}
