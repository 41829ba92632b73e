/**
 * The objects both YAML readers build. Each keeps its offsets as two numbers and makes its `Span` only when one is
 * asked for: in a cluster dump most nodes (uids, timestamps, status fields) are never pointed at by a problem or
 * kept by the model, and a Span object per node and per key was a third of the parsed tree's memory and most of
 * the garbage collector's work while the tree was built. A Span read twice is two equal objects, never the same
 * one: keep the one you read when identity matters. A node's `kind` is its class's (on the prototype, not an own
 * field): a node is read through its methods, never copied or serialised field by field.
 */
import type { Span } from '../problem';
import type { YEntry, YMap, YNode, YScalar, YSeq } from './yaml';
import { resolvePlain } from './plain';
import { work } from '../work';

export class ScalarNode implements YScalar {
  declare readonly kind: 'scalar';
  constructor(
    readonly value: string | number | boolean | null,
    readonly source: string,
    readonly file: string,
    readonly start: number,
    readonly end: number,
  ) {}
  get span(): Span {
    work.spansMade++;
    return { file: this.file, start: this.start, end: this.end };
  }
}

export class SeqNode implements YSeq {
  declare readonly kind: 'seq';
  constructor(
    readonly items: readonly YNode[],
    readonly file: string,
    readonly start: number,
    readonly end: number,
  ) {}
  get span(): Span {
    work.spansMade++;
    return { file: this.file, start: this.start, end: this.end };
  }
}

/**
 * A mapping's entries, four slots each: key, value, key start, key end. The fast reader writes a plain scalar value
 * as its text (a string) in the value slot, and the mapping makes its node when it is read (see MapNode).
 */
export type MapSlots = readonly (string | number | YNode)[];

const SP = 32;
const COLON = 58;

/**
 * A mapping keeps its entries in one array of slots, not as an object per entry: a cluster dump has about one
 * entry per line, and an entry object each (with its array of them) was the largest share of the tree that stays
 * alive while the model is built. `entries` makes the entry objects when asked, new on each read (short-lived,
 * so cheap to collect): the model reads fields through `lookup`, which makes nothing for a collection.
 *
 * A plain scalar value from the fast reader is kept as its text until first read: most values of a cluster dump
 * (uids, timestamps, status fields) are never read, and a node object for each was a third of the tree's objects (the
 * garbage collector's work while the tree and the model are built). Its node is made on each read, like an entry (a
 * scalar read twice is two equal nodes): its value is the text resolved as a plain scalar, and it starts after the
 * key's colon and the spaces that follow (the reader's `text` holds them) and is as long as its text (a plain scalar
 * is written as it reads).
 */
export class MapNode implements YMap {
  declare readonly kind: 'map';
  constructor(
    private readonly slots: MapSlots,
    readonly file: string,
    readonly start: number,
    readonly end: number,
    /** The text the reader read, where a value kept as text finds its offset; '' when every value is a node. */
    private readonly text = '',
    /** Where this mapping's slots start in `slots` (the fast reader keeps many mappings' slots in one array). */
    private readonly from = 0,
    /** How many entries this mapping has, from `from` on. */
    readonly size = (slots.length - from) >> 2,
  ) {}
  get span(): Span {
    work.spansMade++;
    return { file: this.file, start: this.start, end: this.end };
  }
  keyAt(i: number): string {
    return this.slots[this.from + i * 4] as string;
  }
  valueAt(i: number): YNode {
    return this.nodeAt(this.from + i * 4);
  }
  plainAt(i: number): string | undefined {
    const value = this.slots[this.from + i * 4 + 1];
    return typeof value === 'string' ? value : undefined;
  }
  valueSpanAt(i: number): Span {
    const at = this.from + i * 4;
    const value = this.slots[at + 1];
    if (typeof value !== 'string') return (value as YNode).span;
    const start = this.textStart(at);
    work.spansMade++;
    return { file: this.file, start, end: start + value.length };
  }
  indexOf(key: string): number {
    const s = this.slots;
    const from = this.from;
    const end = from + this.size * 4;
    for (let at = from; at < end; at += 4) if (s[at] === key) return (at - from) >> 2;
    return -1;
  }
  /**
   * The value of the entry whose slots start at `at`, made into a node when it is kept as text: on each read, not
   * once for all (putting the node in the text's place made every value read a young object held by an old array,
   * which cost the collector more than making it again).
   */
  private nodeAt(at: number): YNode {
    const value = this.slots[at + 1];
    if (typeof value !== 'string') return value as YNode;
    const start = this.textStart(at);
    work.plainValueNodes++;
    return new ScalarNode(resolvePlain(value), value, this.file, start, start + value.length);
  }
  /**
   * Where the value kept as text of the entry whose slots start at `at` begins: from the key's end (its colon in a
   * block mapping; in a flow mapping, spaces and then the colon), past the colon and the spaces after it.
   */
  private textStart(at: number): number {
    const t = this.text;
    let p = this.slots[at + 3] as number;
    while (t.charCodeAt(p) === SP) p++;
    if (t.charCodeAt(p) === COLON) p++;
    while (t.charCodeAt(p) === SP) p++;
    return p;
  }
  entryAt(i: number): YEntry {
    const s = this.slots;
    const at = this.from + i * 4;
    return new EntryNode(s[at] as string, this.nodeAt(at), this.file, s[at + 2] as number, s[at + 3] as number);
  }
  get entries(): YEntry[] {
    const out: YEntry[] = new Array<YEntry>(this.size);
    for (let i = 0; i < out.length; i++) out[i] = this.entryAt(i);
    return out;
  }
  /** The value of the first entry with this key (a key written twice is read as its first value). */
  lookup(key: string): YNode | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.nodeAt(this.from + i * 4);
  }
  /** The first entry with this key. */
  entry(key: string): YEntry | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.entryAt(i);
  }
}

// Each class's kind lives on its prototype, not on every node: one field less on each of the hundreds of thousands
// of nodes a cluster file makes (8 of a scalar's 72 bytes), and the whole tree is alive while the model is built.
Object.defineProperty(ScalarNode.prototype, 'kind', { value: 'scalar' });
Object.defineProperty(SeqNode.prototype, 'kind', { value: 'seq' });
Object.defineProperty(MapNode.prototype, 'kind', { value: 'map' });

export class EntryNode implements YEntry {
  constructor(
    readonly key: string,
    readonly value: YNode,
    readonly file: string,
    readonly keyStart: number,
    readonly keyEnd: number,
  ) {}
  get keySpan(): Span {
    work.spansMade++;
    return { file: this.file, start: this.keyStart, end: this.keyEnd };
  }
}
