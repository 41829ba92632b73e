/**
 * The data plane's own problems as `analyse` reports them, cheaply: the structure's (e.g. `route.no-device`,
 * known without any ruleset) and, per node with an `iptables:` text, that text's parse problems
 * (`iptables.syntax`, `iptables.unsupported`) at their YAML line. Only the raw text is parsed, never the
 * generated kube-proxy rules: they are the same problems the node's ruleset reports for its raw lines. A node's
 * `nftables:` text is parsed the same way (`nftables.syntax`, `nftables.unsupported`, `nftables.unknown-chain`,
 * `nftables.unknown-set`).
 */
import type { Node, Topology } from '../model/types';
import { parseNftRuleset } from '../nftables';
import type { Problem, Span } from '../problem';
import { rawLineOffsets, rawTextProblems } from './node-rules';
import type { DataPlane } from './types';

export function dataPlaneProblems(
  t: Topology,
  dp: DataPlane | undefined,
  files: ReadonlyMap<string, string>,
): Problem[] {
  const out: Problem[] = [...(dp?.structureProblems ?? [])];
  for (const node of t.nodes) {
    if (node.nftables) out.push(...rawNftProblems(node, files.get(node.nftables.span.file)));
    if (!node.iptables) continue;
    out.push(...rawTextProblems(node, rawLineOffsets(node, files.get(node.iptables.span.file))));
  }
  return out;
}

const RAW = '\u0000nft';

/**
 * Moves spans of a node's `nftables:` text (offsets in the text) to their place in the YAML file: each line of the
 * block scalar is found in the file (after the previous one), and a span moves with the line it starts on. A span
 * whose line cannot be found (or without the file's text) falls back to the whole block.
 */
export function nftSpanMapper(
  own: { readonly text: string; readonly span: Span },
  fileText: string | undefined,
): (s: Span) => Span {
  const { text, span } = own;
  const lines = text.split('\n');
  const starts: number[] = [];
  const shift: (number | undefined)[] = [];
  let acc = 0;
  let cursor = span.start;
  for (const l of lines) {
    starts.push(acc);
    acc += l.length + 1;
    const body = l.replace(/\r$/, '').trim();
    const at = body && fileText !== undefined ? fileText.indexOf(body, cursor) : -1;
    if (at < 0 || at >= span.end) {
      shift.push(undefined);
      continue;
    }
    cursor = at + body.length;
    shift.push(at - (starts[starts.length - 1] + (l.length - l.trimStart().length)));
  }
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return (s) => {
    const d = shift[lineOf(s.start)];
    return d === undefined ? span : { file: span.file, start: s.start + d, end: s.end + d };
  };
}

/** The parse problems of a node's `nftables:` text at their place in the YAML file (see {@link nftSpanMapper}). */
export function rawNftProblems(node: Node, fileText: string | undefined): Problem[] {
  const own = node.nftables;
  if (!own) return [];
  const parsed = parseNftRuleset(own.text, RAW, 0);
  if (!parsed.problems.length) return [];
  const move = nftSpanMapper(own, fileText);
  return parsed.problems.map((p) => ({ ...p, span: p.span.file === RAW ? move(p.span) : own.span }));
}
