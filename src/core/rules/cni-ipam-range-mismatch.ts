import { canonical, parsePrefix, prefixesOverlap } from '../net/address';
import { problem, type Problem } from '../problem';
import type { Rule } from './rule';

/**
 * `cni.ipam-range-mismatch`: a host-local IPAM range of a CNI configuration that is no node's podCIDR. host-local hands out addresses from the range it is
 * given, whatever the node's podCIDR says: when the two differ, pods get addresses other nodes route elsewhere
 * (kubenet and kindnet write the node's podCIDR into the range; a copied conflist keeps another node's).
 */
export const cniIpamRangeMismatch: Rule = {
  code: 'cni.ipam-range-mismatch',
  severity: 'warning',
  description: "A host-local range that is no node's podCIDR (pods get addresses other nodes route elsewhere).",
  run({ topology }) {
    const out: Problem[] = [];
    const nodes = topology.nodes.flatMap((n) =>
      n.podCIDRs.flatMap((c, i) => {
        const p = parsePrefix(c);
        return p ? [{ node: n, p, span: n.spans[`podCIDRs.${i}`] ?? n.span }] : [];
      }),
    );
    for (const conf of topology.cluster.cni.configs) {
      if (conf.ipam?.type !== 'host-local') continue;
      for (const set of conf.ipam.ranges)
        for (const r of set) {
          if (r.subnet === 'usePodCidr') continue;
          const p = parsePrefix(r.subnet);
          const at = r.spans.subnet ?? r.span;
          if (!p) continue;
          const sameFamily = nodes.filter((n) => n.p.family === p.family);
          if (!sameFamily.length || sameFamily.some((n) => canonical(n.p) === canonical(p))) continue;
          const overlapping = sameFamily.filter((n) => prefixesOverlap(n.p, p));
          out.push(
            problem(
              'cni.ipam-range-mismatch',
              'warning',
              overlapping.length
                ? `host-local range ${r.subnet} of CNI network '${conf.name}' is not the podCIDR of any node but overlaps ${overlapping.map((n) => `${n.node.name}'s ${canonical(n.p)}`).join(', ')}: pods get addresses the other nodes route to ${overlapping.map((n) => n.node.name).join(', ')}. The range must be the node's own podCIDR (or usePodCidr).`
                : `host-local range ${r.subnet} of CNI network '${conf.name}' is no node's podCIDR (${sameFamily
                    .slice(0, 4)
                    .map((n) => `${n.node.name}: ${canonical(n.p)}`)
                    .join(
                      ', ',
                    )}): no route leads to its pods from the other nodes. The range must be the node's own podCIDR (or usePodCidr).`,
              at,
              (overlapping.length ? overlapping : sameFamily.slice(0, 4)).map((n) => ({
                span: n.span,
                message: `${n.node.name} podCIDR ${canonical(n.p)}`,
              })),
            ),
          );
        }
    }
    return out;
  },
};
