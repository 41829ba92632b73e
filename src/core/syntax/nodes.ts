/**
 * The objects both YAML readers build. Each keeps its offsets as two numbers and makes its `Span` only when one is
 * asked for: in a cluster dump most nodes (uids, timestamps, status fields) are never pointed at by a problem or
 * kept by the model, and a Span object per node and per key was a third of the parsed tree's memory and most of
 * the garbage collector's work while the tree was built. A Span read twice is two equal objects, never the same
 * one: keep the one you read when identity matters.
 */
import type { Span } from '../problem';
import type { YEntry, YMap, YNode, YScalar, YSeq } from './yaml';

export class ScalarNode implements YScalar {
  readonly kind: 'scalar';
  constructor(
    readonly value: string | number | boolean | null,
    readonly source: string,
    readonly file: string,
    readonly start: number,
    readonly end: number,
  ) {
    this.kind = 'scalar';
  }
  get span(): Span {
    return { file: this.file, start: this.start, end: this.end };
  }
}

export class SeqNode implements YSeq {
  readonly kind: 'seq';
  constructor(
    readonly items: readonly YNode[],
    readonly file: string,
    readonly start: number,
    readonly end: number,
  ) {
    this.kind = 'seq';
  }
  get span(): Span {
    return { file: this.file, start: this.start, end: this.end };
  }
}

export class MapNode implements YMap {
  readonly kind: 'map';
  constructor(
    readonly entries: readonly YEntry[],
    readonly file: string,
    readonly start: number,
    readonly end: number,
  ) {
    this.kind = 'map';
  }
  get span(): Span {
    return { file: this.file, start: this.start, end: this.end };
  }
}

export class EntryNode implements YEntry {
  constructor(
    readonly key: string,
    readonly value: YNode,
    readonly file: string,
    readonly keyStart: number,
    readonly keyEnd: number,
  ) {}
  get keySpan(): Span {
    return { file: this.file, start: this.keyStart, end: this.keyEnd };
  }
}
