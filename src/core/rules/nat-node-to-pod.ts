import { nodeNetns } from '../dataplane/compile';
import { parseAddress } from '../net/address';
import { problem, type Problem } from '../problem';
import { natCulprit } from './nat-pod-to-pod';
import { MAX_TRACES, ipEndpoint, nodePairs, portOf, representatives, sourceNats, trace, written } from './probes';
import type { Rule } from './rule';

/**
 * `nat.node-to-pod`: an SNAT rewrites the source address of traffic a node itself sends to a pod (kubelet
 * probes, node agents), which the Kubernetes network model forbids. Traced from each representative node's
 * root namespace to representative pods (see probes.ts). A MASQUERADE that keeps the node's address (the
 * ip-masq-agent on node traffic leaving by the interface it was sent from) changes nothing the pod sees and is
 * not reported.
 */
export const natNodeToPod: Rule = {
  code: 'nat.node-to-pod',
  severity: 'error',
  description: 'SNAT applies to traffic from a node to a pod (the network model forbids it).',
  needs: ['dataplane'],
  run({ topology: t, dataplane, texts }) {
    if (!dataplane) return []; // runRules skips the rule without one; a direct caller gets no findings.
    const dp = dataplane;
    const found = new Map<string, Problem>();
    let budget = MAX_TRACES;
    for (const [a, b] of nodePairs(representatives(t, dp))) {
      for (const dst of b.pods) {
        const { port, proto } = portOf(dst);
        for (const ip of dst.ips) {
          if (!parseAddress(ip)) continue;
          if (budget-- <= 0) return [...found.values()];
          const result = trace(t, dp, `node/${a.node.name}`, ipEndpoint(ip, port), proto);
          for (const path of result?.paths ?? []) {
            for (const nat of sourceNats(path)) {
              const node = t.nodes.find((n) => nodeNetns(n.name) === nat.event.netns);
              if (!node) continue;
              const c = natCulprit(t, dp, nat, node, texts, ip);
              const key = `${c.span.file}|${c.span.start}|${c.span.end}`;
              if (found.has(key)) continue;
              found.set(
                key,
                problem(
                  'nat.node-to-pod',
                  'error',
                  `Traffic from node ${a.node.name} (${nat.event.before.src}) to pod ${dst.id} (${ip}, ${dst.node}) is ${nat.event.type === 'MASQUERADE' ? 'masqueraded' : 'SNATed'} to ${nat.event.after.src} on ${node.name} by ${c.what}: the pod sees ${nat.event.after.src}, not the node. The Kubernetes network model requires nodes to reach pods without NAT (kubelet probes and node agents are told apart by their address). ${c.advice}`.trim(),
                  c.span,
                  [
                    { span: written(a.node.spans.name) ?? a.node.span, message: `source node ${a.node.name}` },
                    { span: written(dst.spans.name) ?? dst.span, message: `destination pod ${dst.id}` },
                  ],
                  c.fixes,
                ),
              );
            }
          }
        }
      }
    }
    return [...found.values()];
  },
};
