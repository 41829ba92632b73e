/**
 * kube-proxy's nftables mode: nodes alike share one generated and parsed ruleset (src/core/dataplane/
 * kube-proxy-nft-share.ts). Each node must still see exactly what generating and parsing its own would give: the same
 * text, rules, spans, blocks and problems, and the same traces (NodePorts on every node read its own `nodeport-ips`).
 * The reference is the same data plane compiled with `shareKubeProxyNft: false`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, compileDataPlane, traceFlow, type DataPlane } from '../../../src/core';
import type { Topology } from '../../../src/core/model/types';
import { takeWork } from '../../../src/core/work';
import { netpathNftablesCluster } from '../../../bench/cluster';

/** The synthetic cluster (6 nodes, one in three Services a NodePort) with kube-proxy in nftables mode. */
function cluster(edit: (text: string) => string = (x) => x): string {
  const text = netpathNftablesCluster({ name: 'nft', nodes: 6, pods: 60, services: 6 });
  assert.ok(text.includes('  kubeProxy: {mode: nftables,'), 'the bench writes the cluster in nftables mode');
  return edit(text);
}

/** node3's address three characters longer: its `nodeport-ips` set is longer, so every later span moves. */
const longerNode3 = (text: string): string => {
  const before = 'address: 172.16.0.12/12';
  assert.ok(text.includes(before), 'node3 has the address this test lengthens');
  return text.replace(before, 'address: 172.16.100.112/12');
};

/** The dual-stack example in nftables mode, its Service a NodePort, node2's addresses longer in both families. */
function dualStack(): string {
  const text = readFileSync('examples/dual-stack/cluster.netpath.yaml', 'utf8');
  const edited = text
    .replace('  serviceCIDRs: [10.96.0.0/16, "fd00:10:96::/112"]\n', (l) => `${l}  kubeProxy: {mode: nftables}\n`)
    .replace('address: 192.168.56.12/24', 'address: 192.168.56.112/24')
    .replace('address: "fd00:56::12/64"', 'address: "fd00:56::1212/64"')
    .replace(
      '    ports: [{name: http, port: 80, targetPort: http}]',
      '    type: NodePort\n    ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]',
    );
  assert.ok(edited.includes('kubeProxy: {mode: nftables}') && edited.includes('nodePort: 30080'), 'the example edits');
  assert.ok(edited.includes('192.168.56.112/24') && edited.includes('fd00:56::1212/64'), 'the address edits');
  return edited;
}

const nodeNetns = (dp: DataPlane): string[] =>
  [...dp.namespaces.values()].filter((ns) => ns.kind === 'node').map((ns) => ns.id);

/** Every NodePort on every node's own addresses, from the external client, and a pod to every Service. */
function flows(t: Topology): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  const external = t.externals[0]?.name;
  for (const s of t.services) {
    const port = s.ports[0];
    if (!port) continue;
    out.push({ from: `pod/${t.pods[0].id}`, to: `svc/${s.namespace}/${s.name}:${port.port}` });
    if (port.nodePort)
      for (const n of t.nodes) {
        out.push({ from: `pod/${t.pods[0].id}`, to: `node/${n.name}:${port.nodePort}` });
        if (external) out.push({ from: `external/${external}`, to: `node/${n.name}:${port.nodePort}` });
      }
  }
  return out;
}

/** Compiles `text` with and without sharing and holds every node's filter and every flow's trace equal. */
function assertSameAsUnshared(text: string): { shared: number; unshared: number } {
  const a = analyse([{ path: 'cluster.yaml', text }]);
  const t = a.topology;
  assert.equal(t.cluster.kubeProxy.mode, 'nftables');
  takeWork();
  const shared = compileDataPlane(t);
  const own = compileDataPlane(t, { shareKubeProxyNft: false });
  const ids = nodeNetns(shared);
  assert.ok(ids.length >= 2, 'at least two nodes');
  for (const id of ids) {
    const f = shared.namespaces.get(id)?.filter;
    const g = own.namespaces.get(id)?.filter;
    assert.ok(f && g, `${id} has a packet filter`);
    assert.equal(f.text, g.text, `${id}: the same rules text`);
    assert.match(f.text, /set nodeport-ips|fib daddr type local/, `${id}: kube-proxy's nft tables are in its text`);
    assert.deepEqual([...f.rules()], [...g.rules()], `${id}: the same rules with the same spans`);
    assert.deepEqual(f.blocks, g.blocks, `${id}: the same blocks`);
    assert.deepEqual(f.problems, g.problems, `${id}: the same problems`);
  }
  const all = flows(t);
  assert.ok(all.length >= 2, 'flows to trace');
  for (const flow of all) {
    const x = traceFlow(t, flow, shared);
    const y = traceFlow(t, flow, own);
    assert.ok(x.result, `${flow.from} -> ${flow.to} traced`);
    assert.deepEqual(x, y, `${flow.from} -> ${flow.to}: the same trace`);
  }
  const counted = takeWork();
  // Each data plane counted its own: the shared one's templates, then one per node for the other.
  return { shared: counted.kubeProxyNftRulesets - ids.length, unshared: ids.length };
}

describe("kube-proxy's nftables rulesets shared between nodes alike", () => {
  it('every node of the synthetic cluster sees its own tables, and one ruleset is made for all of them', () => {
    const made = assertSameAsUnshared(cluster());
    assert.equal(made.shared, 1, 'one template for six nodes alike');
  });

  it('a node whose address is longer: its set is its own and the spans after it move', () => {
    const made = assertSameAsUnshared(cluster(longerNode3));
    assert.equal(made.shared, 1);
  });

  it('dual-stack: a set per family, both moved, NodePorts on IPv4 and IPv6', () => {
    const made = assertSameAsUnshared(dualStack());
    assert.equal(made.shared, 1);
  });

  it('nodePortAddresses with a zero CIDR (no nodeport-ips set): one ruleset, the same on every node', () => {
    const made = assertSameAsUnshared(
      cluster((t) =>
        t.replace('localDetector: ClusterCIDR}', 'localDetector: ClusterCIDR, nodePortAddresses: [0.0.0.0/0]}'),
      ),
    );
    assert.equal(made.shared, 1);
  });

  it('the NodeCIDR detector names each node pod CIDR: a ruleset per node, still right', () => {
    const made = assertSameAsUnshared(
      cluster((t) => t.replace('localDetector: ClusterCIDR}', 'localDetector: NodeCIDR}')),
    );
    assert.equal(made.shared, 6);
  });

  it('a Service with externalTrafficPolicy Local makes the rules depend on the node: nothing is shared', () => {
    const text = cluster((t) =>
      t.replace(
        '  - name: svc0\n    type: NodePort\n',
        '  - name: svc0\n    type: NodePort\n    externalTrafficPolicy: Local\n',
      ),
    );
    assert.ok(text.includes('externalTrafficPolicy: Local'), 'the edit applied');
    const made = assertSameAsUnshared(text);
    assert.equal(made.shared, 6, 'each node its own ruleset');
  });
});
