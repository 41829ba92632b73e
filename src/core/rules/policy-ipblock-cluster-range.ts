import { parsePrefix, prefixContains, prefixesOverlap, type Prefix } from '../net/address';
import { problem, type Problem } from '../problem';
import { clusterIPsIn } from './policy-ipblock-cluster-ip';
import type { Rule } from './rule';
import { describePolicyChoice, policyChoices } from '../policy/evaluate';

/**
 * `policy.ipblock-cluster-range`: an ipBlock that covers part of the pod or Service ranges. Kubernetes leaves it
 * to the plugin whether ipBlock matches pod IPs (the message says which choice is in effect: `cluster.networkPolicy`,
 * the editor's setting or the default, `match`), and Service IPs are never seen by policies (they judge after DNAT).
 */
export const policyIpblockClusterRange: Rule = {
  code: 'policy.ipblock-cluster-range',
  severity: 'info',
  description:
    'An ipBlock covering pod or Service ranges: matching pod IPs is implementation-defined, Service IPs never match.',
  run({ topology }) {
    const t = topology;
    const podRanges = [...t.cluster.podCIDRs, ...t.nodes.flatMap((n) => n.podCIDRs)].flatMap(
      (c) => parsePrefix(c) ?? [],
    );
    const svcRanges = t.cluster.serviceCIDRs.flatMap((c) => parsePrefix(c) ?? []);
    const out: Problem[] = [];
    const choices = policyChoices(t);
    for (const p of t.networkPolicies)
      for (const [direction, rules] of [
        ['ingress', p.ingress],
        ['egress', p.egress],
      ] as const)
        for (const r of rules)
          for (const peer of r.peers) {
            const b = peer.ipBlock;
            const cidr = b && parsePrefix(b.cidr);
            if (!b || !cidr || cidr.length === 0) continue; // 0.0.0.0/0 means "everywhere", on purpose.
            const except = b.except.flatMap((e) => parsePrefix(e) ?? []);
            const covers = (ranges: Prefix[]) =>
              ranges.filter(
                (x) =>
                  x.family === cidr.family &&
                  prefixesOverlap(x, cidr) &&
                  !except.some((e) => e.family === x.family && prefixContains(e, x)) &&
                  !(prefixContains(x, cidr) && except.some((e) => prefixContains(e, cidr))),
              );
            const pods = covers(podRanges);
            // An egress ipBlock with a known ClusterIP is policy.ipblock-cluster-ip's to report.
            const svcs = direction === 'egress' && clusterIPsIn(t, b).length ? [] : covers(svcRanges);
            if (!pods.length && !svcs.length) continue;
            const parts: string[] = [];
            if (pods.length)
              parts.push(
                `it covers pod addresses (${pods[0].text}): whether an ipBlock matches pod IPs is left to the network plugin (the upstream conformance tests expect it to; plugins that judge pods by identity, such as Cilium, ignore it). In effect here: ${describePolicyChoice(choices, 'ipBlockPodIPs')}. Select pods with podSelector/namespaceSelector instead`,
              );
            if (svcs.length)
              parts.push(
                `it covers Service addresses (${svcs[0].text}), which policies never see: they judge connections after kube-proxy's DNAT, on the backend pod`,
              );
            out.push(
              problem(
                'policy.ipblock-cluster-range',
                'info',
                `ipBlock ${b.cidr} in ${direction}[${r.index}] of ${p.id}: ${parts.join('; ')}.`,
                b.spans.cidr ?? b.span,
              ),
            );
          }
    return out;
  },
};
