/**
 * A table whose chains are parsed when first read. kube-proxy's nftables ruleset holds a few chains per Service and
 * per endpoint (tens of thousands on a large cluster) while a trace reads a handful, so parsing the whole text up front
 * was most of the first trace's time. The caller knows where each block lies (it rendered the text); the table's
 * header and its sets are parsed at once, each chain from its own block when the evaluator first asks for it.
 *
 * A chain parsed alone cannot see the other blocks, so the parser's reference checks (a jump to a chain, a lookup in a
 * set, that the table does not hold) are made here against the table's names instead.
 */
import type { Problem } from '../problem';
import { nftReferenceProblems, parseNftRuleset } from './parse';
import type { NftChain, NftTable } from './types';

/** Where a set, map or chain of a table's text is: from its keyword's line to its closing brace. */
export interface NftBlockAt {
  readonly kind: 'set' | 'map' | 'chain';
  readonly name: string;
  /** A chain with a `type … hook …` line (a base chain, which the evaluator lists per hook). */
  readonly base: boolean;
  readonly start: number;
  readonly end: number;
}

/** The chains of one table, each parsed from its block on first read and kept. */
export class LazyNftChains implements ReadonlyMap<string, NftChain> {
  private readonly parsed = new Map<string, NftChain>();

  constructor(
    private readonly blocks: ReadonlyMap<string, NftBlockAt>,
    private readonly parseBlock: (block: NftBlockAt) => NftChain | undefined,
  ) {}

  get size(): number {
    return this.blocks.size;
  }

  has(name: string): boolean {
    return this.blocks.has(name);
  }

  get(name: string): NftChain | undefined {
    let chain = this.parsed.get(name);
    if (chain) return chain;
    const block = this.blocks.get(name);
    if (!block) return undefined;
    chain = this.parseBlock(block);
    if (chain) this.parsed.set(name, chain);
    return chain;
  }

  /** The base chains in the table's order, parsing only them. */
  baseChains(): NftChain[] {
    const out: NftChain[] = [];
    for (const b of this.blocks.values()) {
      const c = b.base ? this.get(b.name) : undefined;
      if (c) out.push(c);
    }
    return out;
  }

  *entries(): MapIterator<[string, NftChain]> {
    for (const name of this.blocks.keys()) {
      const c = this.get(name);
      if (c) yield [name, c];
    }
  }

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): MapIterator<NftChain> {
    for (const [, c] of this.entries()) yield c;
  }

  [Symbol.iterator](): MapIterator<[string, NftChain]> {
    return this.entries();
  }

  forEach(f: (value: NftChain, key: string, map: ReadonlyMap<string, NftChain>) => void): void {
    for (const [name, c] of this.entries()) f(c, name, this);
  }
}

/**
 * The table that opens at offset `start` of `text` (it holds nothing but sets, maps, chains and a comment), its chains
 * parsed when read. `blocks` lists every set, map and chain of it in the text's order, sets first, at offsets in
 * `text`. Problems found while parsing
 * (the header and sets at once, a chain when it is read) go to `problems` with their spans in `text`.
 */
export function lazyNftTable(
  text: string,
  file: string,
  start: number,
  blocks: readonly NftBlockAt[],
  problems: Problem[] = [],
): NftTable | undefined {
  const chainBlocks = new Map<string, NftBlockAt>();
  const setNames = new Set<string>();
  let setsEnd = -1;
  for (const b of blocks) {
    if (b.kind === 'chain') chainBlocks.set(b.name, b);
    else {
      // The sets come first: the header, its comment and the sets are one prefix of the text.
      if (chainBlocks.size > 0) return undefined;
      setNames.add(b.name);
      setsEnd = b.end;
    }
  }
  const firstChain = blocks.find((b) => b.kind === 'chain');
  if (!firstChain) return undefined;
  const headEnd = setsEnd >= 0 ? setsEnd : firstChain.start;
  const head = parseNftRuleset(`${text.slice(start, headEnd)}\n}\n`, file, start, { checkReferences: false });
  const table = head.ruleset.tables[0];
  if (!table || head.ruleset.tables.length !== 1) return undefined;
  problems.push(...head.problems);
  const hasChain = (name: string): boolean => chainBlocks.has(name);
  const hasSet = (name: string): boolean => setNames.has(name);
  problems.push(...nftReferenceProblems(table, hasChain, hasSet, [], table.sets.values()));
  const header = `table ${table.family} ${table.name} {\n`;
  const chains = new LazyNftChains(chainBlocks, (b) => {
    // Alone, the chain cannot see the table's other chains and sets: its references are checked against their names.
    const one = parseNftRuleset(`${header}${text.slice(b.start, b.end)}\n}\n`, file, b.start - header.length, {
      checkReferences: false,
    });
    problems.push(...one.problems);
    const chain = one.ruleset.tables[0]?.chains.get(b.name);
    if (chain) problems.push(...nftReferenceProblems(table, hasChain, hasSet, [chain], []));
    return chain;
  });
  return { ...table, chains };
}
