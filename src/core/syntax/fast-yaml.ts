/**
 * A fast reader for the YAML people write for clusters: block mappings and sequences, one-line flow
 * collections, plain and quoted one-line scalars, literal block scalars (`|`, `|-`), comments and `---`
 * documents. That is everything `kubectl get -o yaml`, Helm and NetPath's own examples produce.
 *
 * It builds the same `YNode` tree, with the same spans, as the general reader in `yaml.ts` (which wraps the
 * `yaml` library), but about ten times faster and with a fraction of the allocation: on a 26 MB cluster the
 * library's CST and document alone cost more than parsing the whole file should. Anything outside the
 * subset (anchors, aliases, tags, directives, folded or multi-line scalars, multi-line flow collections, tabs,
 * lone CRs, a BOM; CRLF line ends are read without their CRs and the spans moved back) and anything that is not valid YAML makes it give up (`undefined`), and the caller
 * reads the file with the library instead, which recovers from errors and reports them. A differential test
 * (test/unit/syntax/fast-yaml.test.ts) holds the two readers to the same output.
 */
import type { Span } from '../problem';
import type { YDocument, YMap, YNode, YScalar, YSeq } from './yaml';
import { MapNode, ScalarNode, SeqNode } from './nodes';
import { resolvePlain } from './plain';
import { work } from '../work';

/** Thrown inside the reader when the text leaves the subset; never escapes `parseFastYaml`. */
class OutsideSubset {}
const OUT = new OutsideSubset();

const NL = 10; // \n
const SP = 32; // space
const HASH = 35; // #
const DASH = 45; // -
const COLON = 58; // :
const DQ = 34; // "
const SQ = 39; // '
const PIPE = 124; // |
const COMMA = 44;
const LBRACK = 91;
const RBRACK = 93;
const LBRACE = 123;
const RBRACE = 125;
const DOT = 46;

/** Characters that cannot start a plain scalar (`-`, `?` and `:` can, when a non-space follows). */
function indicator(c: number): boolean {
  return (
    c === LBRACK ||
    c === RBRACK ||
    c === LBRACE ||
    c === RBRACE ||
    c === COMMA ||
    c === HASH ||
    c === 38 /* & */ ||
    c === 42 /* * */ ||
    c === 33 /* ! */ ||
    c === PIPE ||
    c === 62 /* > */ ||
    c === SQ ||
    c === DQ ||
    c === 37 /* % */ ||
    c === 64 /* @ */ ||
    c === 96 /* ` */
  );
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
};

/** At most this many distinct keys are shared (a file of millions of distinct keys gets copies past it). */
const MAX_INTERNED_KEYS = 10000;

/** Up to this many keys a mapping's keys are compared pairwise for duplicates; past it, through a Set. */
const SMALL_MAP = 16;

/**
 * Slots of the first array that mappings' slots are copied into, and of the largest (each next one is twice the last):
 * 65,536 slots is a large object of 512 KB, below the length at which an array made with a length is a dictionary.
 */
const FIRST_SLOT_CHUNK = 256;
const MAX_SLOT_CHUNK = 65536;

/** Slots of the cache of recent plain keys (a power of two). */
const KEY_CACHE_SIZE = 1024;

/**
 * The slot of the key cache for a key of `length` characters with these first, middle and last characters. The middle
 * one tells apart keys that a cluster writes on every object and that share their length and ends (`name` and `node`,
 * `interfaces` and `ipFamilies`), which took each other's slot on every pod.
 */
function keySlot(length: number, first: number, middle: number, last: number): number {
  return (length * 31 + first * 7 + middle * 131 + last) & (KEY_CACHE_SIZE - 1);
}

/** Slots of the cache of recent plain values (a power of two), and the longest value it holds. */
const VALUE_CACHE_SIZE = 4096;
const VALUE_CACHE_MAX_LENGTH = 48;

class Reader {
  private pos = 0;
  /** Nesting depth of collections: deeper than the general reader converts is left to it. */
  private depth = 0;
  /** Where the node just read ends, with its trailing spaces, comment and line break (the library's range[2]). */
  private end = 0;
  private readonly len: number;
  /** The offsets `lineEnd` searched from and found last: no line break lies between them. */
  private lineFrom = -1;
  private lineTo = -1;
  /** The indent of the line `nextContentLine` found last. */
  private contentIndent = 0;
  /**
   * Keys read so far, by their text as written: a cluster dump writes the same few dozen keys a million times,
   * and every entry keeps its key for as long as the tree lives, so each distinct key is one string, shared.
   */
  private readonly keys = new Map<string, string>();
  /** Plain keys as written, to their text (`0x10:` is the key '16'), so a known key is neither tested nor resolved again. */
  private readonly plainKeys = new Map<string, string>();
  /** The cache of plain flow-mapping keys, as the one of block keys (a flow key is scanned by other rules). */
  private readonly flowKeyCacheRaw: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(
    undefined,
  );
  private readonly flowKeyCacheText: string[] = new Array<string>(KEY_CACHE_SIZE).fill('');
  /** Where the flow key just read ends. */
  private keyEnd = 0;
  /** Whether some mapping read so far has a key written twice. */
  duplicateKeys = false;
  /**
   * The entries (or items) of every collection being read, innermost last: a collection reads its own from `base`
   * to `top` and copies them out once, at its end. An array per collection grown by pushes made two or three
   * backing stores for each of the hundreds of thousands of small mappings of a cluster file, all garbage at once.
   * `top`, not the array's length, marks the end: shortening the array would free its store and regrow it.
   */
  private readonly scratch: (string | number | YNode)[] = [];
  private top = 0;
  /** The same for the items of sequences. */
  private readonly itemScratch: YNode[] = [];
  /** The array the slots of the mappings read last go to, and how many of its slots are used (see `mapNode`). */
  private chunk: (string | number | YNode)[] = [];
  private chunkTop = 0;
  private itemTop = 0;
  /** The last plain key seen in each slot of the key cache (as written), and its text. */
  private readonly keyCacheRaw: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);
  private readonly keyCacheText: string[] = new Array<string>(KEY_CACHE_SIZE).fill('');
  /** Plain values seen last in each slot of the value cache (see `plainText`). */
  private readonly valueCache: (string | undefined)[] = new Array<string | undefined>(VALUE_CACHE_SIZE).fill(undefined);

  constructor(
    private readonly file: string,
    private readonly text: string,
  ) {
    this.len = text.length;
  }

  private span(start: number, end: number): Span {
    return { file: this.file, start, end };
  }

  /**
   * The end of the line holding `p`. A line is asked for its end several times (its key's colon, its value, a flow
   * collection's every scalar): the last line's span is kept, and any offset inside it is answered without a search.
   */
  private lineEnd(p: number): number {
    if (p >= this.lineFrom && p <= this.lineTo) return this.lineTo;
    const i = this.text.indexOf('\n', p);
    this.lineFrom = p;
    return (this.lineTo = i < 0 ? this.len : i);
  }

  /**
   * From a line start: the start of the next line holding content (not blank, not only a comment), or len; its
   * indent goes to `contentIndent` (every caller asks for it next, and the spaces are counted here already).
   */
  private nextContentLine(p: number): number {
    const t = this.text;
    while (p < this.len) {
      let q = p;
      while (t.charCodeAt(q) === SP) q++;
      const c = t.charCodeAt(q);
      if (q < this.len && c !== NL && c !== HASH) {
        this.contentIndent = q - p;
        return p;
      }
      p = this.lineEnd(q) + 1;
    }
    return this.len;
  }

  private indentAt(lineStart: number): number {
    let q = lineStart;
    while (this.text.charCodeAt(q) === SP) q++;
    return q - lineStart;
  }

  /** `---` or `...` at a line start, followed by a space, a line break or the end. */
  private marker(p: number, c: number): boolean {
    const t = this.text;
    if (t.charCodeAt(p) !== c || t.charCodeAt(p + 1) !== c || t.charCodeAt(p + 2) !== c) return false;
    const n = t.charCodeAt(p + 3);
    return p + 3 >= this.len || n === SP || n === NL;
  }

  /** After a node on a line: spaces, an optional comment (after a space), the line break. Sets `end`, `pos`. */
  private finishLine(p: number): void {
    const t = this.text;
    const from = p;
    while (t.charCodeAt(p) === SP) p++;
    if (p < this.len && t.charCodeAt(p) !== NL) {
      if (t.charCodeAt(p) !== HASH || p === from) throw OUT;
      p = this.lineEnd(p);
    }
    this.end = this.pos = p < this.len ? p + 1 : p;
  }

  documents(): YDocument[] {
    const docs: YDocument[] = [];
    let p = 0;
    let open = -1; // offset of a `---` whose document has not been read yet
    let openEnd = -1;
    for (;;) {
      const q = this.nextContentLine(p);
      if (q >= this.len) {
        if (open >= 0) docs.push(this.emptyDocument(docs.length, open, openEnd, q));
        return docs;
      }
      if (this.marker(q, DOT)) throw OUT;
      if (this.marker(q, DASH)) {
        if (open >= 0) docs.push(this.emptyDocument(docs.length, open, openEnd, q));
        open = q;
        openEnd = q + 3;
        this.finishLine(q + 3);
        p = this.pos;
        continue;
      }
      const indent = this.contentIndent;
      const root = this.blockNode(q + indent, indent, -1, false);
      const after = this.nextContentLine(this.pos);
      if (after < this.len && !this.marker(after, DASH)) throw OUT;
      // As in the library: a document whose content ends with its line runs over the blank lines and comments
      // after it, up to the next `---` or the end of the file; one that ends in an empty value (`a:`) stops there,
      // or after its last comment line.
      const endsWithLine = this.end > 0 && this.text.charCodeAt(this.end - 1) === NL;
      const docEnd = endsWithLine ? after : this.trailingEnd(this.pos, after);
      docs.push({
        file: this.file,
        index: docs.length,
        root,
        span: this.span(open >= 0 ? open : q, Math.max(docEnd, this.end)),
      });
      open = -1;
      p = after;
    }
  }

  /** The end of the last comment line between `from` and `to` (0 when there is none). */
  private trailingEnd(from: number, to: number): number {
    const t = this.text;
    let end = 0;
    let p = from;
    while (p < to) {
      const e = this.lineEnd(p);
      let q = p;
      while (t.charCodeAt(q) === SP) q++;
      if (t.charCodeAt(q) === HASH) end = e < this.len ? e + 1 : e;
      p = e + 1;
    }
    return end;
  }

  private emptyDocument(index: number, open: number, openEnd: number, next: number): YDocument {
    const root: YScalar = new ScalarNode(null, '', this.file, openEnd, openEnd);
    // An empty document ends after its `---`, unless comments follow it: then it runs up to the next document or
    // the end of the file (the library's spans, kept exactly).
    const end = this.trailingEnd(openEnd, next) > 0 ? Math.min(next, this.len) : openEnd;
    return { file: this.file, index, root, span: this.span(open, end) };
  }

  /**
   * A node starting at `p` (column `col`, the first thing on its line or after `- `), inside a parent at
   * column `parent`. `seqItem`: the node follows a `- ` (a compact mapping may start here).
   */
  private blockNode(p: number, col: number, parent: number, seqItem: boolean): YNode {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DASH && this.dashIndicator(p)) {
      if (seqItem) throw OUT; // `- - a`: rare, left to the library
      return this.blockSeq(p, col);
    }
    const colon = this.keyColon(p);
    if (colon >= 0) return this.blockMap(p, col, colon);
    return this.inline(p, parent, false);
  }

  private dashIndicator(p: number): boolean {
    const n = this.text.charCodeAt(p + 1);
    return p + 1 >= this.len || n === SP || n === NL;
  }

  /**
   * When the line at `p` starts with an implicit key (`key:` followed by a space, line break or end),
   * the offset of that colon; otherwise -1.
   */
  private keyColon(p: number): number {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DQ || c === SQ) {
      const close = this.quotedEnd(p);
      if (close < 0) return -1;
      return t.charCodeAt(close) === COLON && this.colonEnds(close) ? close : -1;
    }
    if (indicator(c)) return -1;
    const e = this.lineEnd(p);
    for (let i = p; i < e; i++) {
      const ch = t.charCodeAt(i);
      if (ch === COLON && this.colonEnds(i)) return i;
      if (ch === HASH && t.charCodeAt(i - 1) === SP) return -1;
    }
    return -1;
  }

  private colonEnds(i: number): boolean {
    const n = this.text.charCodeAt(i + 1);
    return i + 1 >= this.len || n === SP || n === NL;
  }

  /** The offset just after the closing quote of the one-line quoted scalar at `p`, or -1. */
  private quotedEnd(p: number): number {
    const t = this.text;
    const q = t.charCodeAt(p);
    const e = this.lineEnd(p);
    for (let i = p + 1; i < e; i++) {
      const ch = t.charCodeAt(i);
      if (q === DQ && ch === 92 /* \ */) i++;
      else if (ch === q) {
        if (q === SQ && t.charCodeAt(i + 1) === SQ) i++;
        else return i + 1;
      }
    }
    return -1;
  }

  private blockSeq(p: number, col: number): YSeq {
    if (++this.depth > 150) throw OUT;
    const base = this.itemTop;
    const start = p;
    for (;;) {
      // at `p`: a `-` at column `col`
      let q = p + 1;
      while (this.text.charCodeAt(q) === SP) q++;
      const item = this.value(q, col, col + (q - p), true);
      this.itemScratch[this.itemTop++] = item;
      const next = this.nextContentLine(this.pos);
      if (next >= this.len || this.marker(next, DASH) || this.marker(next, DOT)) break;
      const ind = this.contentIndent;
      if (ind < col) break;
      if (ind > col) throw OUT;
      if (this.text.charCodeAt(next + ind) !== DASH || !this.dashIndicator(next + ind)) {
        break; // the parent mapping's next key at the same column (a sequence under `key:`)
      }
      p = next + ind;
    }
    this.depth--;
    return new SeqNode(this.collectedItems(base), this.file, start, this.end);
  }

  /**
   * Notes a key written twice in one mapping (the mapping's slots so far, and past {@link SMALL_MAP} keys the set of
   * them, which it returns): a file without one needs no pass of its own for yaml.duplicate-key (yaml.ts).
   */
  private noteKey(base: number, key: string, seen: Set<string> | undefined): Set<string> | undefined {
    if (this.duplicateKeys) return undefined;
    if (seen) {
      if (seen.has(key)) this.duplicateKeys = true;
      else seen.add(key);
      return seen;
    }
    const slots = this.scratch;
    const n = this.top;
    for (let at = base; at < n; at += 4)
      if (slots[at] === key) {
        this.duplicateKeys = true;
        return undefined;
      }
    if (n - base < SMALL_MAP * 4) return undefined;
    // A large mapping: its keys in a set from here on, not compared pairwise.
    const all = new Set<string>([key]);
    for (let at = base; at < n; at += 4) {
      const k = slots[at];
      if (typeof k === 'string') all.add(k);
    }
    return all;
  }

  /** The slots a collection wrote from `base` on, copied out; `top` goes back to `base`. */
  private collected(base: number): (string | number | YNode)[] {
    const out = this.scratch.slice(base, this.top);
    this.top = base;
    return out;
  }

  /**
   * The mapping whose entries are the slots written from `base` on; `top` goes back to `base`. Its slots are copied
   * into the current chunk, shared by the mappings read after one another: nearly every mapping lives as long as the
   * tree, and an array of its own each (640,000 of them in a 5,000-node topology) was a third of the tree that the
   * scavenger copied twice while the file was read, where a chunk is one large object that is never moved. Chunks
   * grow from small (a short file allocates little) to {@link MAX_SLOT_CHUNK}; a mapping too large for one gets its
   * own array.
   */
  private mapNode(base: number, start: number, end: number): MapNode {
    const count = this.top - base;
    if (count > MAX_SLOT_CHUNK >> 2) {
      work.mapSlotArrays++;
      return new MapNode(this.collected(base), this.file, start, end, this.text);
    }
    if (this.chunkTop + count > this.chunk.length) {
      work.mapSlotArrays++;
      this.chunk = new Array<string | number | YNode>(
        Math.min(MAX_SLOT_CHUNK, Math.max(FIRST_SLOT_CHUNK, this.chunk.length * 2)),
      );
      this.chunkTop = 0;
    }
    const chunk = this.chunk;
    const from = this.chunkTop;
    const scratch = this.scratch;
    for (let i = 0; i < count; i++) chunk[from + i] = scratch[base + i];
    this.chunkTop = from + count;
    this.top = base;
    return new MapNode(chunk, this.file, start, end, this.text, from, count >> 2);
  }

  /** The items a sequence wrote from `base` on, copied out; `itemTop` goes back to `base`. */
  private collectedItems(base: number): YNode[] {
    const out = this.itemScratch.slice(base, this.itemTop);
    this.itemTop = base;
    return out;
  }

  private pushEntry(key: string, value: YNode | string, keyStart: number, keyEnd: number): void {
    const s = this.scratch;
    s[this.top++] = key;
    s[this.top++] = value;
    s[this.top++] = keyStart;
    s[this.top++] = keyEnd;
  }

  /** A block mapping at `p` (column `col`), whose first key's colon the caller found at `firstColon`. */
  private blockMap(p: number, col: number, firstColon: number): YMap {
    if (++this.depth > 150) throw OUT;
    const base = this.top;
    let seen: Set<string> | undefined;
    const start = p;
    let colon = firstColon;
    for (;;) {
      if (colon < 0) throw OUT;
      const key = this.key(p, colon);
      seen = this.noteKey(base, key, seen);
      let q = colon + 1;
      while (this.text.charCodeAt(q) === SP) q++;
      const value = this.value(q, col, -1, false);
      this.pushEntry(key, value, p, colon);
      const next = this.nextContentLine(this.pos);
      if (next >= this.len || this.marker(next, DASH) || this.marker(next, DOT)) break;
      const ind = this.contentIndent;
      if (ind < col) break;
      if (ind > col) throw OUT;
      p = next + ind;
      if (this.text.charCodeAt(p) === DASH && this.dashIndicator(p)) break; // the parent sequence's next item
      colon = this.keyColon(p);
    }
    this.depth--;
    return this.mapNode(base, start, this.end);
  }

  /** An implicit block key from `p` to the colon at `colon`, as the library converts it. */
  private key(p: number, colon: number): string {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DQ || c === SQ) return this.intern(this.quoted(p, colon));
    if (t.charCodeAt(colon - 1) === SP) throw OUT; // `key :`
    // Most keys are one of a few dozen met before: a direct-mapped cache on the key's length and end characters,
    // checked against the text in place, finds them without slicing the key out and hashing it.
    const length = colon - p;
    const slot = keySlot(length, c, t.charCodeAt(p + (length >> 1)), t.charCodeAt(colon - 1));
    const cachedRaw = this.keyCacheRaw[slot];
    if (cachedRaw !== undefined && cachedRaw.length === length && t.startsWith(cachedRaw, p))
      return this.keyCacheText[slot];
    const raw = t.slice(p, colon);
    const known = this.plainKeys.get(raw);
    if (known !== undefined) {
      this.keyCacheRaw[slot] = raw;
      this.keyCacheText[slot] = known;
      return known;
    }
    if (/[[\]{},]/.test(raw) || raw.startsWith('? ') || raw.startsWith(': ')) throw OUT;
    const text = this.intern(String(resolvePlain(raw)));
    if (this.plainKeys.size < MAX_INTERNED_KEYS) this.plainKeys.set(raw, text);
    this.keyCacheRaw[slot] = raw;
    this.keyCacheText[slot] = text;
    return text;
  }

  /**
   * The text of a plain scalar from `p` to `end`. A cluster file repeats most of its values (node names, label values,
   * port names, kinds, versions), and the tree keeps every one for as long as it lives: a value met recently is found
   * in a direct-mapped cache checked against the text in place and shared, not sliced out again.
   */
  private plainText(p: number, end: number): string {
    const t = this.text;
    const length = end - p;
    if (length > VALUE_CACHE_MAX_LENGTH || length < 2) return t.slice(p, end);
    const slot =
      (length * 31 +
        t.charCodeAt(p) * 7 +
        t.charCodeAt(end - 1) * 131 +
        t.charCodeAt(end - 2) * 17 +
        t.charCodeAt(end - 3)) &
      (VALUE_CACHE_SIZE - 1);
    const cached = this.valueCache[slot];
    if (cached !== undefined && cached.length === length && t.startsWith(cached, p)) return cached;
    const text = t.slice(p, end);
    this.valueCache[slot] = text;
    return text;
  }

  /** One string per distinct key text (see `keys`). */
  private intern(key: string): string {
    const known = this.keys.get(key);
    if (known !== undefined) return known;
    if (this.keys.size < MAX_INTERNED_KEYS) this.keys.set(key, key);
    return key;
  }

  /**
   * The value after `key:` or `- `, starting at `p` (spaces skipped). `parent`: the column of the mapping or
   * sequence holding it. `col`: the column of `p` for a sequence item (where a compact mapping starts). A mapping's
   * value that is a plain scalar (or empty) is returned as its text, which the mapping keeps (MapNode).
   */
  private value(p: number, parent: number, col: number, seqItem: true): YNode;
  private value(p: number, parent: number, col: number, seqItem: false): YNode | string;
  private value(p: number, parent: number, col: number, seqItem: boolean): YNode | string {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (p >= this.len || c === NL || c === HASH) {
      if (c === HASH && t.charCodeAt(p - 1) !== SP) throw OUT;
      const at = p;
      const lineEnd = this.lineEnd(p);
      const next = this.nextContentLine(lineEnd < this.len ? lineEnd + 1 : lineEnd);
      if (next < this.len && !this.marker(next, DASH) && !this.marker(next, DOT)) {
        const ind = this.contentIndent;
        const q = next + ind;
        if (ind > parent) return this.blockNode(q, ind, parent, false);
        if (!seqItem && ind === parent && t.charCodeAt(q) === DASH && this.dashIndicator(q))
          return this.blockSeq(q, ind);
      }
      // An empty value with a comment after it, on its line or on the lines before the next content: the
      // library's spans for it vary with the nesting; left to it.
      if (c === HASH || this.trailingEnd(lineEnd < this.len ? lineEnd + 1 : lineEnd, next) > 0) throw OUT;
      this.pos = lineEnd < this.len ? lineEnd + 1 : lineEnd;
      this.end = at;
      return seqItem ? new ScalarNode(null, '', this.file, at, at) : '';
    }
    if (seqItem) {
      if (c === DASH && this.dashIndicator(p)) throw OUT;
      const colon = this.keyColon(p);
      if (colon >= 0) return this.blockMap(p, col, colon);
      return this.inline(p, parent, false);
    }
    // A plain value is kept as its text in every document, a NetPath topology's too: the tree lives as long as the
    // model, and a node for each of a pod's seven values was a quarter of it, copied twice by the scavenger while the
    // file was read. The schema and name checks read such a value with no node made (MapNode.plainAt).
    return this.inline(p, parent, true);
  }

  /**
   * A scalar or flow collection on the rest of the line at `p`, then the end of that line; `asText`: a plain scalar
   * as its text (a mapping's value).
   */
  private inline(p: number, parent: number, asText: false): YNode;
  private inline(p: number, parent: number, asText: boolean): YNode | string;
  private inline(p: number, parent: number, asText: boolean): YNode | string {
    const t = this.text;
    const c = t.charCodeAt(p);
    let node: YNode;
    if (c === PIPE) return this.literal(p, parent);
    if (c === LBRACK || c === LBRACE) {
      node = this.flow(p);
      this.finishLine(this.pos);
      return node;
    }
    if (c === DQ || c === SQ) {
      const close = this.quotedEnd(p);
      if (close < 0) throw OUT;
      const value = this.quoted(p, close);
      this.finishLine(close);
      return new ScalarNode(value, value, this.file, p, close);
    }
    if (indicator(c) || ((c === 63 /* ? */ || c === COLON || c === DASH) && this.dashLike(p))) throw OUT;
    // A plain scalar: to a ` #` comment or the line end, trailing spaces dropped; never a `key: value`.
    const e = this.lineEnd(p);
    let stop = e;
    for (let i = p; i < e; i++) {
      const ch = t.charCodeAt(i);
      if (ch === HASH && t.charCodeAt(i - 1) === SP) {
        stop = i;
        break;
      }
      if (ch === COLON && this.colonEnds(i)) throw OUT;
    }
    let valueEnd = stop;
    while (t.charCodeAt(valueEnd - 1) === SP) valueEnd--;
    const source = this.plainText(p, valueEnd);
    this.finishLine(valueEnd);
    return asText ? source : new ScalarNode(resolvePlain(source), source, this.file, p, valueEnd);
  }

  /** `?`, `:` or `-` followed by a space or the line end: an indicator, not the start of a plain scalar. */
  private dashLike(p: number): boolean {
    const n = this.text.charCodeAt(p + 1);
    return p + 1 >= this.len || n === SP || n === NL;
  }

  /** The value of the quoted scalar from `p` (its opening quote) to `close` (just after its closing quote). */
  private quoted(p: number, close: number): string {
    const t = this.text;
    const body = t.slice(p + 1, close - 1);
    if (t.charCodeAt(p) === SQ) return body.includes("''") ? body.replace(/''/g, "'") : body;
    if (!body.includes('\\')) return body;
    let out = '';
    for (let i = 0; i < body.length; i++) {
      const ch = body[i];
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const n = body[++i];
      const simple = ESCAPES[n];
      if (simple !== undefined) out += simple;
      else if (n === 'x' || n === 'u' || n === 'U') {
        const digits = n === 'x' ? 2 : n === 'u' ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + digits);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== digits) throw OUT;
        out += String.fromCodePoint(parseInt(hex, 16));
        i += digits;
      } else throw OUT;
    }
    return out;
  }

  /** A literal block scalar (`|`, `|-`) inside a parent at column `parent`. */
  private literal(p: number, parent: number): YScalar {
    const t = this.text;
    let h = p + 1;
    const chomp = t.charCodeAt(h);
    if (chomp === DASH) h++;
    else if (chomp === 43 /* + */ || (chomp >= 48 && chomp <= 57)) throw OUT;
    this.finishLine(h);
    let line = this.pos;
    let indent = -1;
    const lines: string[] = [];
    let end = line;
    let lastContent = 0;
    let contentEnd = line;
    while (line < this.len) {
      const e = this.lineEnd(line);
      const ind = this.indentAt(line);
      const blank = line + ind === e;
      if (blank) {
        if (indent < 0 && ind > parent + 1) throw OUT; // leading blank lines with more spaces: left to the library
        lines.push(indent >= 0 && e - line > indent ? t.slice(line + indent, e) : '');
      } else {
        if (indent < 0) {
          if (ind <= parent) break;
          indent = ind;
        } else if (ind < indent) break;
        lines.push(t.slice(line + indent, e));
        lastContent = lines.length;
        contentEnd = e < this.len ? e + 1 : e;
      }
      end = e < this.len ? e + 1 : e;
      line = end;
    }
    if (indent < 0) throw OUT; // an empty block scalar: left to the library
    const kept = lines.slice(0, lastContent);
    const value = kept.join('\n') + (chomp === DASH ? '' : '\n');
    // The scalar's span stops after its last line of content; blank lines after it are nobody's.
    this.pos = end;
    this.end = contentEnd;
    return new ScalarNode(value, value, this.file, p, contentEnd);
  }

  // ------------------------------------------------------------------ flow collections (one line)

  private skipSpaces(p: number): number {
    while (this.text.charCodeAt(p) === SP) p++;
    return p;
  }

  /** A flow collection starting at `p`; sets `pos` after its closing bracket. */
  private flow(p: number): YMap | YSeq {
    if (++this.depth > 150) throw OUT;
    const t = this.text;
    const open = t.charCodeAt(p);
    const close = open === LBRACK ? RBRACK : RBRACE;
    let q = this.skipSpaces(p + 1);
    const base = this.top;
    const itemBase = this.itemTop;
    let seen: Set<string> | undefined;
    if (t.charCodeAt(q) !== close) {
      for (;;) {
        if (open === LBRACE) {
          const keyStart = q;
          const key = this.flowKey(q);
          const keyEnd = this.keyEnd;
          q = this.skipSpaces(this.pos);
          if (t.charCodeAt(q) !== COLON) throw OUT;
          q = this.skipSpaces(q + 1);
          const c = t.charCodeAt(q);
          if (c === COMMA || c === close) throw OUT; // `{a: }`: left to the library
          const v = this.flowValue(q);
          seen = this.noteKey(base, key, seen);
          this.pushEntry(key, v, keyStart, keyEnd);
        } else {
          const item = this.flowNode(q);
          this.itemScratch[this.itemTop++] = item;
        }
        q = this.skipSpaces(this.pos);
        const c = t.charCodeAt(q);
        if (c === COMMA) {
          q = this.skipSpaces(q + 1);
          if (t.charCodeAt(q) === close) throw OUT; // a trailing comma
          continue;
        }
        if (c === close) break;
        throw OUT;
      }
    }
    this.depth--;
    this.pos = q + 1;
    return open === LBRACK
      ? new SeqNode(this.collectedItems(itemBase), this.file, p, q + 1)
      : this.mapNode(base, p, q + 1);
  }

  /** A flow mapping's value: a plain scalar as its text, which the mapping keeps (MapNode). */
  private flowValue(p: number): YNode | string {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === LBRACK || c === LBRACE || c === DQ || c === SQ) return this.flowNode(p);
    const valueEnd = this.plainEnd(p, false);
    this.pos = valueEnd;
    if (t.charCodeAt(this.skipSpaces(valueEnd)) === COLON) throw OUT; // `{a: b: c}`
    return this.plainText(p, valueEnd);
  }

  private flowNode(p: number): YNode {
    const c = this.text.charCodeAt(p);
    if (c === LBRACK || c === LBRACE) return this.flow(p);
    const node = this.flowScalar(p, false);
    if (this.text.charCodeAt(this.skipSpaces(this.pos)) === COLON) throw OUT; // `[a: b]`
    return node;
  }

  /** A quoted or plain scalar inside a flow collection; sets `pos` after it. */
  private flowScalar(p: number, key: boolean): ScalarNode {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DQ || c === SQ) {
      const close = this.quotedEnd(p);
      if (close < 0) throw OUT;
      const value = this.quoted(p, close);
      this.pos = close;
      return new ScalarNode(value, value, this.file, p, close);
    }
    const valueEnd = this.plainEnd(p, key);
    const source = this.plainText(p, valueEnd);
    this.pos = valueEnd;
    return new ScalarNode(resolvePlain(source), source, this.file, p, valueEnd);
  }

  /** Where a plain flow scalar starting at `p` ends (its trailing spaces left out); outside the subset, throws. */
  private plainEnd(p: number, key: boolean): number {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (indicator(c) || ((c === 63 || c === COLON || c === DASH) && this.dashLike(p))) throw OUT;
    const e = this.lineEnd(p);
    let i = p;
    for (; i < e; i++) {
      const ch = t.charCodeAt(i);
      if (ch === COMMA || ch === LBRACK || ch === RBRACK || ch === LBRACE || ch === RBRACE) break;
      if (ch === HASH && t.charCodeAt(i - 1) === SP) throw OUT;
      if (ch === COLON) {
        const n = t.charCodeAt(i + 1);
        if (n === SP || n === COMMA || n === RBRACE || n === RBRACK || i + 1 >= e) break;
        if (key) throw OUT;
      }
    }
    if (i >= e) throw OUT; // runs past the line: a multi-line flow collection
    let valueEnd = i;
    while (t.charCodeAt(valueEnd - 1) === SP) valueEnd--;
    if (valueEnd === p) throw OUT;
    return valueEnd;
  }

  /**
   * A flow mapping's key at `p`, as its text (`String` of its value, shared); sets `pos` and `keyEnd` to its end. A
   * plain key met before is found in a direct-mapped cache checked against the text in place, as block keys are:
   * no scalar node and no slice for it.
   */
  private flowKey(p: number): string {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (c === DQ || c === SQ) {
      const k = this.flowScalar(p, true);
      this.keyEnd = k.end;
      return this.intern(String(k.value));
    }
    const end = this.plainEnd(p, true);
    this.pos = this.keyEnd = end;
    const length = end - p;
    const slot = keySlot(length, c, t.charCodeAt(p + (length >> 1)), t.charCodeAt(end - 1));
    const cachedRaw = this.flowKeyCacheRaw[slot];
    if (cachedRaw !== undefined && cachedRaw.length === length && t.startsWith(cachedRaw, p))
      return this.flowKeyCacheText[slot];
    const raw = t.slice(p, end);
    const value = resolvePlain(raw);
    if (value === null) throw OUT; // `{~: 1}`: left to the library
    const text = this.intern(String(value));
    this.flowKeyCacheRaw[slot] = raw;
    this.flowKeyCacheText[slot] = text;
    return text;
  }
}

/**
 * The documents of `text` when it stays inside the subset this reader handles, with the spans the general
 * reader would give; `undefined` otherwise (the caller then uses the general reader).
 */
export function parseFastYaml(file: string, text: string): YDocument[] | undefined {
  return readFastYaml(file, text)?.documents;
}

/** What the fast reader read: the documents, and whether any mapping in them has a key written twice. */
export interface FastYaml {
  readonly documents: YDocument[];
  readonly duplicateKeys: boolean;
}

/** {@link parseFastYaml}, saying whether a key is written twice somewhere (else no duplicate-key pass is needed). */
export function readFastYaml(file: string, text: string): FastYaml | undefined {
  if (text.includes('\t') || text.charCodeAt(0) === 0xfeff) return undefined;
  const cr = text.indexOf('\r');
  if (cr >= 0) return crlf(file, text, cr);
  try {
    const reader = new Reader(file, text);
    const documents = reader.documents();
    return { documents, duplicateKeys: reader.duplicateKeys };
  } catch {
    // Outside the subset, or nested past the stack: the general reader handles (and reports) it.
    return undefined;
  }
}

/**
 * A file with CRLF line ends (written on Windows, or checked out with autocrlf): read without the CRs, then every
 * span moved back by the CRs before it. YAML reads CRLF as one line break, so the tree is the same; a lone CR
 * (not followed by LF) is a line break of its own there, and is left to the library.
 */
function crlf(file: string, text: string, first: number): FastYaml | undefined {
  /** Positions, in the text without CRs, of the LFs that followed a CR. */
  const breaks: number[] = [];
  const parts: string[] = [];
  let from = 0;
  for (let cr = first; cr >= 0; cr = text.indexOf('\r', cr + 1)) {
    if (text.charCodeAt(cr + 1) !== NL) return undefined;
    parts.push(text.slice(from, cr));
    breaks.push(cr - breaks.length);
    from = cr + 1;
  }
  parts.push(text.slice(from));
  let docs: YDocument[];
  let duplicateKeys: boolean;
  try {
    const reader = new Reader(file, parts.join(''));
    docs = reader.documents();
    duplicateKeys = reader.duplicateKeys;
  } catch {
    return undefined;
  }
  // An offset in the text without CRs, in the text with them: plus the CRs at earlier line ends.
  const at = (o: number): number => {
    let lo = 0;
    let hi = breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (breaks[mid] < o) lo = mid + 1;
      else hi = mid;
    }
    return o + lo;
  };
  const span = (s: Span): Span => ({ file: s.file, start: at(s.start), end: at(s.end) });
  const node = (n: YNode): YNode => {
    const s = span(n.span);
    switch (n.kind) {
      case 'scalar':
        return new ScalarNode(n.value, n.source, file, s.start, s.end);
      case 'seq':
        return new SeqNode(n.items.map(node), file, s.start, s.end);
      case 'map': {
        const slots: (string | number | YNode)[] = [];
        for (let i = 0; i < n.size; i++) {
          const k = span(n.entryAt(i).keySpan);
          slots.push(n.keyAt(i), node(n.valueAt(i)), k.start, k.end);
        }
        return new MapNode(slots, file, s.start, s.end);
      }
    }
  };
  return {
    documents: docs.map((d) => ({ ...d, root: d.root ? node(d.root) : undefined, span: span(d.span) })),
    duplicateKeys,
  };
}
