import {
  literalAddress,
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
} from '../net/address';
import { PRIVATE_PREFIXES } from '../net/ranges';
import { problem, type Problem, type Span } from '../problem';
import type { Node, Topology } from '../model/types';
import type { Rule } from './rule';
import { cniPluginOf } from '../cni';

/** A well-known public address that stands for "the internet" when a node has a default route. */
const INTERNET: Record<4 | 6, Address> = { 4: literalAddress('8.8.8.8'), 6: literalAddress('2001:4860:4860::8888') };

/**
 * Whether something on `node` masquerades pod traffic to `dest`: an ip-masq-agent that does not exempt it,
 * the CNI bridge plugin's ipMasq (everything leaving the pod subnet), or a MASQUERADE/SNAT rule in the node's
 * raw iptables text (taken on trust here; the data-plane rules judge raw rules exactly).
 */
function masqueraded(t: Topology, node: Node, src: Address, dest: Address): boolean {
  const agent = t.cluster.masquerade;
  if (
    agent &&
    !agent.nonMasqueradeCIDRs.some((c) => {
      const p = parsePrefix(c);
      return p !== undefined && prefixContainsAddress(p, dest);
    })
  )
    return true;
  if (cniPluginOf(node).masqueradesTo(node, src, dest, t)) return true;
  return node.iptables !== undefined && /-j\s+(?:MASQUERADE|SNAT)\b/.test(node.iptables.text);
}

/** Why nothing masquerades a pod's packet from `src` on `node` to `dest`, and what would: by the node's plug-in. */
function why(t: Topology, node: Node, src: Address, dest: Address): { text: string; fix: string } {
  const agent = t.cluster.masquerade;
  const exempt = agent?.nonMasqueradeCIDRs.find((c) => {
    const p = parsePrefix(c);
    return p !== undefined && prefixContainsAddress(p, dest);
  });
  const cni = cniPluginOf(node).egressUnmasked(node, t, src);
  return {
    text: [
      agent ? `the ip-masq-agent exempts it: nonMasqueradeCIDRs include ${exempt}` : 'no ip-masq-agent',
      cni.why,
      'no MASQUERADE rule',
    ].join(', '),
    fix: cni.fix,
  };
}

const isPrivate = (a: Address) => PRIVATE_PREFIXES.some((p) => prefixContainsAddress(p, a));

/**
 * `nat.egress-missing`: pods with private addresses send traffic out of the cluster and nothing masquerades it,
 * so the far end answers to a pod address it has no route to and the replies are lost. "Out of the cluster"
 * is the internet (when a node has a `default` route) and external clients on a network no node is attached
 * to. Externals on a node's own network are clients of the cluster; NetPath does not assume pods call them.
 */
export const natEgressMissing: Rule = {
  code: 'nat.egress-missing',
  severity: 'warning',
  description: 'Pods with private addresses reach outside the cluster with no masquerade: replies cannot come back.',
  run({ topology }) {
    const out: Problem[] = [];
    const attached = new Set(topology.nodes.flatMap((n) => n.interfaces.map((i) => i.network)));
    const destinations: { what: string; address: Address; span: Span; nodes: readonly Node[] }[] = [];
    for (const x of topology.externals) {
      if (attached.has(x.network)) continue;
      for (const [k, text] of x.addresses.entries()) {
        const a = parsePrefix(text);
        if (a)
          destinations.push({
            what: `external ${x.name} (${text.split('/')[0]})`,
            address: { family: a.family, value: a.address },
            span: x.spans[`addresses.${k}`] ?? x.span,
            nodes: topology.nodes,
          });
      }
    }
    for (const n of topology.nodes) {
      const route = n.routes.find((r) => r.to === 'default' || r.to === '0.0.0.0/0' || r.to === '::/0');
      if (!route) continue;
      const family = route.to === '::/0' || (route.via && route.via.includes(':')) ? 6 : 4;
      destinations.push({
        what: 'the internet',
        address: INTERNET[family],
        span: route.spans.to ?? route.span,
        nodes: [n],
      });
    }
    // The pods are read only when something lies outside the cluster (most topologies have neither an unattached
    // external nor a default route), and appended to their node's list in one pass.
    if (!destinations.length) return out;
    const podsByNode = new Map<string, { id: string; ip: Address }[]>();
    for (const p of topology.pods) {
      if (p.hostNetwork) continue;
      for (const ip of p.ips) {
        const a = parseAddress(ip);
        if (!a || !isPrivate(a)) continue;
        const list = podsByNode.get(p.node);
        if (list) list.push({ id: p.id, ip: a });
        else podsByNode.set(p.node, [{ id: p.id, ip: a }]);
      }
    }
    for (const d of destinations) {
      const affected = d.nodes.flatMap((n) => {
        const pods = (podsByNode.get(n.name) ?? []).filter((p) => p.ip.family === d.address.family);
        const unmasked = pods.find((p) => !masqueraded(topology, n, p.ip, d.address));
        return unmasked ? [{ node: n, pod: unmasked }] : [];
      });
      if (!affected.length) continue;
      const names = affected.map((x) => x.node.name);
      const example = affected[0].pod;
      const reason = why(topology, affected[0].node, example.ip, d.address);
      out.push(
        problem(
          'nat.egress-missing',
          'warning',
          `Pods on ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more nodes` : ''} reach ${d.what} with their private pod address (e.g. ${example.id} from ${formatAddress(example.ip)}) and nothing masquerades it (${reason.text}): the far end has no route back to the pod network, so replies are lost. ${reason.fix}`,
          d.span,
          affected
            .slice(0, 10)
            .map((x) => ({ span: x.node.spans.name ?? x.node.span, message: `node ${x.node.name}` })),
        ),
      );
    }
    return out;
  },
};
