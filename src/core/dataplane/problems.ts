/**
 * The data plane's own problems as `analyse` reports them, cheaply: the structure's (e.g. `route.no-device`,
 * known without any ruleset) and, per node with an `iptables:` text, that text's parse problems
 * (`iptables.syntax`, `iptables.unsupported`) at their YAML line. Only the raw text is parsed, never the
 * generated kube-proxy rules: they are the same problems the node's ruleset reports for its raw lines.
 */
import type { Topology } from '../model/types';
import type { Problem } from '../problem';
import { rawLineOffsets, rawTextProblems } from './node-rules';
import type { DataPlane } from './types';

export function dataPlaneProblems(
  t: Topology,
  dp: DataPlane | undefined,
  files: ReadonlyMap<string, string>,
): Problem[] {
  const out: Problem[] = [...(dp?.structureProblems ?? [])];
  for (const node of t.nodes) {
    if (!node.iptables) continue;
    out.push(...rawTextProblems(node, rawLineOffsets(node, files.get(node.iptables.span.file))));
  }
  return out;
}
