/**
 * kube-proxy's nftables-mode tables, generated once for all the nodes that get the same ones.
 *
 * kube-proxy writes the same tables on every node but for what depends on the node: the `nodeport-ips` set (the
 * node's addresses), the local-traffic detector (NodeCIDR: the node's pod CIDR; the bridge or veth prefix of its
 * plug-in), the endpoints it calls local (a Service with a Local traffic policy) and a LoadBalancer firewall's source
 * list (the node's address is let through). In a cluster with no Local traffic policy and no
 * `loadBalancerSourceRanges`, nodes with the same detector and the same NodePort addressing differ only in the
 * `nodeport-ips` set's elements. Such a group shares one "template": the tables of its first node, rendered once, each
 * chain parsed when first read (src/core/nftables/lazy.ts: a trace reads a few of the tens of thousands of a large
 * cluster). Each node's text is the template's with its own set put in, and its ruleset is the template's with that
 * set swapped. The template's spans are placed in the node's text when they leave the packet filter: those after the
 * set move by the difference in its length.
 *
 * Without this, every node a trace or probe crosses generated and parsed kube-proxy's whole ruleset again: on 1,000
 * nodes and 2,000 Services, 5 s per trace.
 */
import {
  generateKubeProxyNftables,
  layOutNftRuleset,
  nftNodePortIPsSet,
  renderNftSet,
  type KubeProxyNftInput,
} from '../kubeproxy';
import {
  lazyNftTable,
  parseNftRuleset,
  type NftBlockAt,
  type NftRuleset,
  type NftSet,
  type NftTable,
} from '../nftables';
import type { Node, Topology } from '../model/types';
import type { Problem, Span } from '../problem';
import { clusterFamilies, kubeProxyInput } from './kube-proxy';
import { work } from '../work';

/** The file name a template is parsed under; its spans never leave the filter under it (see `placeSpan`). */
export const NFT_TEMPLATE_FILE = '\u0000kube-proxy-nft-template';

/** kube-proxy's nft tables on one node, built from its group's template. */
export interface SharedKubeProxyNft {
  /** The node's text, as `kubeProxyNftablesText` would make it. */
  readonly text: string;
  /** The template's tables, with this node's `nodeport-ips` sets (their spans already in `text`). */
  readonly ruleset: NftRuleset;
  /** Problems of parsing the template and this node's sets, spans in `text`. */
  readonly problems: readonly Problem[];
  /** A span of the template placed in `text` (any other span as it is). */
  readonly placeSpan: <S extends Span | undefined>(s: S) => S;
}

/** One family's table of a template, and where its `nodeport-ips` set is in the template's text. */
interface TemplateTable {
  readonly family: 'ip' | 'ip6';
  /** Offsets in the template's text of the rendered set; absent when NodePorts answer on every local address. */
  readonly set?: { readonly start: number; readonly end: number };
}

interface Template {
  readonly text: string;
  readonly tables: readonly TemplateTable[];
  readonly parsed: { readonly ruleset: NftRuleset; readonly problems: readonly Problem[] };
}

/** What compiled data planes keep between nodes: whether nodes can share at all, and the templates by group. */
export interface NftShareMemo {
  shareable?: boolean;
  readonly templates: Map<string, Template | undefined>;
}

export const newNftShareMemo = (): NftShareMemo => ({ templates: new Map() });

/**
 * Whether kube-proxy's tables can differ between nodes in more than the `nodeport-ips` set and the detector: a
 * Local traffic policy (which endpoints are local) or a LoadBalancer firewall (the node's address in its list).
 */
function nodeSpecificServices(t: Topology): boolean {
  return t.services.some(
    (s) =>
      s.internalTrafficPolicy === 'Local' ||
      s.externalTrafficPolicy === 'Local' ||
      s.loadBalancerSourceRanges.length > 0,
  );
}

/**
 * kube-proxy's nft tables on `node`, from the template of the nodes alike (made on first use), or undefined when this
 * cluster's tables depend on the node in more than the `nodeport-ips` set (the caller then generates them).
 */
export function sharedKubeProxyNft(
  t: Topology,
  node: Node,
  memo: NftShareMemo,
  rulesFile: string,
): SharedKubeProxyNft | undefined {
  memo.shareable ??= !nodeSpecificServices(t);
  if (!memo.shareable) return undefined;
  const inputs: KubeProxyNftInput[] = clusterFamilies(t).map((f) => ({
    ...kubeProxyInput(t, node, f),
    serviceCIDRs: t.cluster.serviceCIDRs,
  }));
  const sets = inputs.map((i) => nftNodePortIPsSet(i));
  // Nodes alike: the same detector and NodePort addressing (a set, or every local address) in every family.
  const key = inputs.map((i, k) => `${JSON.stringify(i.localDetector)}/${sets[k] ? 'set' : 'all'}`).join('|');
  let template = memo.templates.get(key);
  if (!memo.templates.has(key)) {
    template = makeTemplate(inputs);
    memo.templates.set(key, template);
  }
  if (!template) return undefined;

  // The node's text: the template's, each family's set replaced by the node's.
  const pieces: string[] = [];
  const moves: { readonly after: number; readonly by: number }[] = [];
  const swapped = new Map<string, NftSet>();
  const problems: Problem[] = [];
  let from = 0;
  let shift = 0;
  template.tables.forEach((table, k) => {
    const set = sets[k];
    if (!table.set || !set) return;
    const block = renderNftSet(set);
    pieces.push(template.text.slice(from, table.set.start));
    const at = table.set.start + shift;
    pieces.push(block);
    from = table.set.end;
    shift += block.length - (table.set.end - table.set.start);
    moves.push({ after: table.set.end, by: shift });
    // The node's set parsed on its own, its spans placed where the block is in the node's text.
    const header = `table ${table.family} kube-proxy {\n`;
    const own = parseNftRuleset(`${header}${block}\n}\n`, rulesFile, at - header.length);
    problems.push(...own.problems);
    const parsed = own.ruleset.tables[0]?.sets.get(set.name);
    if (parsed) swapped.set(table.family, parsed);
  });
  pieces.push(template.text.slice(from));

  const placeSpan = <S extends Span | undefined>(s: S): S => {
    if (!s || s.file !== NFT_TEMPLATE_FILE) return s;
    const by = (offset: number): number => {
      let b = 0;
      for (const m of moves) if (offset >= m.after) b = m.by;
      return b;
    };
    return { ...s, file: rulesFile, start: s.start + by(s.start), end: s.end + by(s.end) };
  };
  const tables = template.parsed.ruleset.tables.map((table): NftTable => {
    const set = swapped.get(table.family);
    return set ? { ...table, sets: new Map(table.sets).set(set.name, set) } : table;
  });
  return {
    // Joined with + so V8 keeps a rope of the template's slices: nothing is copied until the text is read.
    text: pieces.reduce((a, b) => a + b, ''),
    ruleset: { tables },
    problems: [
      ...template.parsed.problems.map((p) => ({
        ...p,
        span: placeSpan(p.span),
        ...(p.related ? { related: p.related.map((r) => ({ ...r, span: placeSpan(r.span) })) } : {}),
      })),
      ...problems,
    ],
    placeSpan,
  };
}

/**
 * The first node's tables of a group, rendered, with each chain parsed when first read (a trace reads a few of the
 * tens of thousands a large cluster's Services make); undefined if a table has no `nodeport-ips` set to swap.
 */
function makeTemplate(inputs: readonly KubeProxyNftInput[]): Template | undefined {
  let text = '';
  const tables: TemplateTable[] = [];
  const laidOut: { readonly start: number; readonly blocks: readonly NftBlockAt[] }[] = [];
  for (const input of inputs) {
    const table = generateKubeProxyNftables(input);
    const rendered = layOutNftRuleset(table);
    const start = text.length;
    const blocks = rendered.blocks.map((b) => ({ ...b, start: start + b.start, end: start + b.end }));
    if (table.sets.some((s) => s.name === 'nodeport-ips')) {
      const set = blocks.find((b) => b.kind === 'set' && b.name === 'nodeport-ips');
      if (!set) return undefined;
      tables.push({ family: table.family, set: { start: set.start, end: set.end } });
    } else tables.push({ family: table.family });
    laidOut.push({ start, blocks });
    text += rendered.text;
  }
  work.kubeProxyNftRulesets++;
  const problems: Problem[] = [];
  const lazy = laidOut.map((t) => lazyNftTable(text, NFT_TEMPLATE_FILE, t.start, t.blocks, problems));
  const parsed = lazy.every((t) => t !== undefined)
    ? { ruleset: { tables: lazy }, problems }
    : parseNftRuleset(text, NFT_TEMPLATE_FILE, 0);
  return { text, tables, parsed };
}
