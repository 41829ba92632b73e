import { cniPluginOf } from '../cni';
import { nodeNetns } from '../dataplane/compile';
import type { DataPlane } from '../dataplane/types';
import type { Node, Pod, Topology } from '../model/types';
import { parseAddress, parsePrefix, prefixContainsAddress } from '../net/address';
import { problem, type Problem, type QuickFix, type RelatedInformation, type Span } from '../problem';
import {
  MAX_TRACES,
  ipEndpoint,
  nodePairs,
  portOf,
  representatives,
  ruleAuthor,
  sourceNats,
  trace,
  written,
  type RuleAuthor,
  type SourceNat,
} from './probes';
import type { Rule } from './rule';

/** Where a source translation comes from in the topology, said for a person, with the fix when there is one. */
export interface NatCulprit {
  readonly span: Span;
  readonly what: string;
  readonly advice: string;
  readonly fixes: readonly QuickFix[];
}

/** Adds `cidrs` to a YAML list (flow or block) whose items are at `items`; undefined when the text is not at hand. */
function addToList(
  texts: ReadonlyMap<string, string> | undefined,
  listSpan: Span | undefined,
  items: readonly Span[],
  cidrs: readonly string[],
): QuickFix | undefined {
  const last = items[items.length - 1];
  const text = last ? texts?.get(last.file) : undefined;
  if (!last || text === undefined || !cidrs.length) return undefined;
  const title = `Add ${cidrs.join(', ')} to nonMasqueradeCIDRs`;
  if (listSpan && text[listSpan.start] === '[')
    return {
      title,
      edits: [
        { span: { file: last.file, start: last.end, end: last.end }, newText: cidrs.map((c) => `, ${c}`).join('') },
      ],
      preferred: true,
    };
  const lineStart = text.lastIndexOf('\n', last.start - 1) + 1;
  const prefix = text.slice(lineStart, last.start);
  if (!/^\s*-\s+$/.test(prefix)) return undefined;
  const dash = prefix.slice(0, prefix.indexOf('-'));
  return {
    title,
    edits: [
      {
        span: { file: last.file, start: last.end, end: last.end },
        newText: cidrs.map((c) => `\n${dash}- ${c}`).join(''),
      },
    ],
    preferred: true,
  };
}

/** The setting behind a rule that translated a pod's or node's traffic, by who wrote the rule. */
export function natCulprit(
  t: Topology,
  dp: DataPlane,
  nat: SourceNat,
  node: Node,
  texts: ReadonlyMap<string, string> | undefined,
  dst: string,
): NatCulprit {
  const author: RuleAuthor = ruleAuthor(dp, nat.event.netns, nat.ruleSpan);
  // Comments (the CNI plugin's container IDs, kube-proxy's notes) make the rule long and say nothing here.
  const rule = `\`${nat.event.rule.replace(/\s+-m comment --comment ("(?:[^"\\]|\\.)*"|\S+)/g, '')}\``;
  const fallback = written(node.spans.name) ?? node.span;
  const unattributed = (): NatCulprit => ({
    span: nat.ruleSpan && nat.ruleSpan.file.startsWith('netpath:') ? fallback : (nat.ruleSpan ?? fallback),
    what: `the rule ${rule}`,
    advice: '',
    fixes: [],
  });
  switch (author) {
    case 'cni-ipmasq': {
      // The node's plug-in says which of its settings wrote the rule (bridge/ptp ipMasq, flanneld's --ip-masq,
      // Calico's natOutgoing, kindnet's pod range) and whether a quick fix can turn it off where it is written.
      const src = parseAddress(nat.event.before.src);
      if (!src) return unattributed();
      const c = cniPluginOf(node).masqueradeCulprit(node, t, nat.event.chain, src);
      return {
        span: c.span ?? fallback,
        what: `${c.what} ${rule}`,
        advice: c.advice,
        fixes:
          c.span && c.fix
            ? [{ title: c.fix.title, edits: [{ span: c.span, newText: c.fix.newText }], preferred: c.fix.preferred }]
            : [],
      };
    }
    case 'ip-masq-agent': {
      // The agent's rules exist only when the cluster configures it; a rule that only looks like its is someone else's.
      const agent = t.cluster.masquerade;
      if (!agent) return unattributed();
      const a = parseAddress(dst);
      const uncovered = t.cluster.podCIDRs.flatMap((c) => {
        const p = parsePrefix(c);
        const covered =
          !p ||
          !a ||
          p.family !== a.family ||
          !prefixContainsAddress(p, a) ||
          agent.nonMasqueradeCIDRs.some((n) => {
            const q = parsePrefix(n);
            return (
              q &&
              q.family === p.family &&
              q.length <= p.length &&
              prefixContainsAddress(q, { family: p.family, value: p.address })
            );
          });
        return covered ? [] : [p.text];
      });
      const items = agent.nonMasqueradeCIDRs
        .map((_, i) => written(agent.spans[`nonMasqueradeCIDRs.${i}`]))
        .filter((s): s is Span => s !== undefined);
      const span = written(agent.spans.nonMasqueradeCIDRs) ?? items[0] ?? written(agent.span);
      const fix =
        items.length === agent.nonMasqueradeCIDRs.length
          ? addToList(texts, written(agent.spans.nonMasqueradeCIDRs), items, uncovered)
          : undefined;
      return {
        span: span ?? fallback,
        what: `the ip-masq-agent, whose nonMasqueradeCIDRs (${agent.nonMasqueradeCIDRs.join(', ') || 'none'}) do not cover ${dst}`,
        advice: `The agent masquerades every destination outside nonMasqueradeCIDRs and does not look at the source, so the list must hold the pod network${uncovered.length ? ` (${uncovered.join(', ')})` : ''}.`,
        fixes: fix ? [fix] : [],
      };
    }
    case 'kube-proxy': {
      const kp = t.cluster.kubeProxy;
      const span = written(kp.spans.masqueradeAll) ?? written(kp.span);
      return {
        span: span ?? fallback,
        what: `kube-proxy's rule ${rule}`,
        advice: 'kube-proxy marks this traffic for masquerade; check masqueradeAll and the local-traffic detector.',
        fixes: [],
      };
    }
    case 'node-iptables':
      return {
        span: nat.ruleSpan ?? fallback,
        what: `the rule ${rule} in node ${node.name}'s iptables`,
        advice:
          'Exempt the pod network from it (e.g. `-d <pod CIDR> -j RETURN` before it, or `! -d <pod CIDR>` on it).',
        fixes: [],
      };
    case 'node-nftables':
      return {
        span: nat.ruleSpan ?? fallback,
        what: `the rule ${rule} in node ${node.name}'s nftables`,
        advice:
          'Exempt the pod network from it (e.g. `ip daddr <pod CIDR> return` before it, or `ip daddr != <pod CIDR>` on it).',
        fixes: [],
      };
    default:
      return unattributed();
  }
}

const podText = (p: Pod, ip: string): string => `${p.id} (${ip}, ${p.node})`;

/**
 * `nat.pod-to-pod`: some SNAT/MASQUERADE rewrites the source of traffic between two pods, which the Kubernetes
 * network model forbids. Decided by tracing representative pod pairs through the compiled data plane (see
 * probes.ts): one diagnostic per setting or rule that does it, on that setting, with a pair that shows it.
 */
export const natPodToPod: Rule = {
  code: 'nat.pod-to-pod',
  severity: 'error',
  description: 'Some SNAT/MASQUERADE applies to traffic between two pods (the network model forbids it).',
  needs: ['dataplane'],
  run({ topology: t, dataplane, texts }) {
    if (!dataplane) return []; // runRules skips the rule without one; a direct caller gets no findings.
    const dp = dataplane;
    const reps = representatives(t, dp);
    const found = new Map<string, Problem>();
    let budget = MAX_TRACES;
    for (const [a, b] of nodePairs(reps)) {
      for (const src of a.pods) {
        for (const dst of b.pods) {
          if (src === dst) continue;
          const { port, proto } = portOf(dst);
          for (const ip of dst.ips) {
            if (!src.ips.some((s) => parseAddress(s)?.family === parseAddress(ip)?.family)) continue;
            if (budget-- <= 0) return [...found.values()];
            const result = trace(t, dp, `pod/${src.id}`, ipEndpoint(ip, port), proto);
            for (const path of result?.paths ?? []) {
              for (const nat of sourceNats(path)) {
                const at = dp.namespaces.get(nat.event.netns);
                const node = t.nodes.find((n) => nodeNetns(n.name) === nat.event.netns);
                if (!at || !node) continue;
                const c = natCulprit(t, dp, nat, node, texts, ip);
                const key = `${c.span.file}|${c.span.start}|${c.span.end}`;
                if (found.has(key)) continue;
                const related: RelatedInformation[] = [
                  { span: written(src.spans.name) ?? src.span, message: `source pod ${src.id}` },
                  { span: written(dst.spans.name) ?? dst.span, message: `destination pod ${dst.id}` },
                ];
                found.set(
                  key,
                  problem(
                    'nat.pod-to-pod',
                    'error',
                    `Traffic from pod ${podText(src, nat.event.before.src)} to pod ${podText(dst, ip)} is ${nat.event.type === 'MASQUERADE' ? 'masqueraded' : 'SNATed'} to ${nat.event.after.src} on ${node.name} by ${c.what}: ${dst.name} sees ${nat.event.after.src}, not ${src.name}. The Kubernetes network model requires pods to reach each other without NAT (NetworkPolicies and logs rely on the real pod address). ${c.advice}`.trim(),
                    c.span,
                    related,
                    c.fixes,
                  ),
                );
              }
            }
          }
        }
      }
    }
    return [...found.values()];
  },
};
