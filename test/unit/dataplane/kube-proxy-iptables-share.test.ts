/**
 * kube-proxy's iptables mode: nodes with nothing of their own whose kube-proxy lines are the same share one scanned
 * and parsed ruleset, with its chain objects and the evaluator's caches (src/core/dataplane/node-rules.ts). Each node
 * must still see exactly what scanning and parsing its own would give: the same text, rules, spans, blocks and
 * problems, and the same traces. The reference is the same data plane compiled with `shareKubeProxyIptables: false`.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, compileDataPlane, traceFlow, type DataPlane } from '../../../src/core';
import type { Topology } from '../../../src/core/model/types';
import { takeWork } from '../../../src/core/work';
import { lazyParseWork } from '../../../src/core/netfilter/parse';
import { netpathCluster } from '../../../bench/cluster';
import { chainsOf } from '../../../src/core/netfilter/chains';
import type { Chain, Ruleset, Table } from '../../../src/core/netfilter/types';

/** The synthetic cluster (6 nodes, one in five Services a NodePort), kube-proxy in iptables mode. */
function cluster(edit: (text: string) => string = (x) => x): string {
  const text = netpathCluster({ name: 'ipt', nodes: 6, pods: 60, services: 12 });
  assert.ok(text.includes('  kubeProxy: {mode: iptables,'), 'the bench writes the cluster in iptables mode');
  return edit(text);
}

/** Replaces `before` (which must be in the text) with `after`. */
const replacing =
  (before: string, after: string) =>
  (text: string): string => {
    assert.ok(text.includes(before), `the cluster has ${JSON.stringify(before)}`);
    return text.replace(before, after);
  };

/** The dual-stack example, its Service a NodePort, node2's addresses longer in both families. */
function dualStack(edit: (text: string) => string = (x) => x): string {
  const text = readFileSync('examples/dual-stack/cluster.netpath.yaml', 'utf8');
  const edited = text
    .replace('address: 192.168.56.12/24', 'address: 192.168.56.112/24')
    .replace('address: "fd00:56::12/64"', 'address: "fd00:56::1212/64"')
    .replace(
      '    ports: [{name: http, port: 80, targetPort: http}]',
      '    type: NodePort\n    ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]',
    );
  assert.ok(edited.includes('nodePort: 30080') && edited.includes('fd00:56::1212/64'), 'the example edits');
  return edit(edited);
}

const nodeNetns = (dp: DataPlane): string[] =>
  [...dp.namespaces.values()].filter((ns) => ns.kind === 'node').map((ns) => ns.id);

/** A pod to every Service, and every NodePort on every node from a pod of another node and from outside. */
function flows(t: Topology): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  const external = t.externals[0]?.name;
  const pods = [t.pods[0], t.pods[t.pods.length - 1]].filter((p) => p !== undefined);
  for (const s of t.services) {
    const port = s.ports[0];
    if (!port) continue;
    for (const p of pods) out.push({ from: `pod/${p.id}`, to: `svc/${s.namespace}/${s.name}:${port.port}` });
    if (port.nodePort)
      for (const n of t.nodes) {
        out.push({ from: `pod/${pods[0]?.id}`, to: `node/${n.name}:${port.nodePort}` });
        if (external) out.push({ from: `external/${external}`, to: `node/${n.name}:${port.nodePort}` });
      }
  }
  return out;
}

/**
 * Compiles `text` with and without sharing and holds every node's filter and every flow's trace equal; returns how
 * many rulesets with kube-proxy's lines the shared data plane scanned.
 */
function assertSameAsUnshared(text: string | readonly { path: string; text: string }[]): number {
  const t = analyse(typeof text === 'string' ? [{ path: 'cluster.yaml', text }] : text).topology;
  assert.equal(t.cluster.kubeProxy.mode, 'iptables');
  takeWork();
  const own = compileDataPlane(t, { shareKubeProxyIptables: false });
  const ids = nodeNetns(own);
  assert.ok(ids.length >= 2, 'at least two nodes');
  for (const id of ids) assert.ok(own.namespaces.get(id)?.filter, `${id} has a packet filter`);
  assert.equal(takeWork().kubeProxyIptablesRulesets, ids.length, 'unshared: one ruleset per node');
  const shared = compileDataPlane(t);
  for (const id of ids) {
    const f = shared.namespaces.get(id)?.filter;
    const g = own.namespaces.get(id)?.filter;
    assert.ok(f && g, `${id} has a packet filter`);
    assert.equal(f.text, g.text, `${id}: the same rules text`);
    assert.match(f.text, /-A KUBE-SERVICES /, `${id}: kube-proxy's rules are in its text`);
    assert.deepEqual([...f.rules()], [...g.rules()], `${id}: the same rules with the same spans`);
    assert.deepEqual(f.blocks, g.blocks, `${id}: the same blocks`);
    assert.deepEqual(f.problems, g.problems, `${id}: the same problems`);
  }
  const made = takeWork().kubeProxyIptablesRulesets;
  const all = flows(t);
  assert.ok(all.length >= 2, 'flows to trace');
  for (const flow of all) {
    const x = traceFlow(t, flow, shared);
    const y = traceFlow(t, flow, own);
    assert.ok(x.result, `${flow.from} -> ${flow.to} traced`);
    assert.deepEqual(x, y, `${flow.from} -> ${flow.to}: the same trace`);
  }
  return made;
}

describe("kube-proxy's iptables rulesets shared between nodes alike", () => {
  it('every node of the synthetic cluster sees its own rules, and one ruleset is scanned for all of them', () => {
    assert.equal(assertSameAsUnshared(cluster()), 1, 'one ruleset for six nodes alike');
  });

  it('a node whose address is longer: NodePorts answer on every local address, still one ruleset', () => {
    const made = assertSameAsUnshared(cluster(replacing('address: 172.16.0.12/12', 'address: 172.16.100.112/12')));
    assert.equal(made, 1);
  });

  it('dual-stack: both families, NodePorts on IPv4 and IPv6, one ruleset for the nodes', () => {
    assert.equal(assertSameAsUnshared(dualStack()), 1);
  });

  it('dual-stack with the bridge plug-in masquerading per pod: kube-proxy shared, the rest per node', () => {
    const made = assertSameAsUnshared(
      dualStack(
        replacing(
          '  serviceCIDRs: [10.96.0.0/16, "fd00:10:96::/112"]\n',
          '  serviceCIDRs: [10.96.0.0/16, "fd00:10:96::/112"]\n  cni: {ipMasq: true}\n',
        ),
      ),
    );
    assert.equal(made, 1);
  });

  it('ClientIP session affinity with per-pod masquerade: the recent lists are found through both parts', () => {
    const made = assertSameAsUnshared(
      cluster((text) =>
        replacing(
          '  - name: svc0\n',
          '  - name: svc0\n    sessionAffinity: ClientIP\n',
        )(replacing('ipMasq: false', 'ipMasq: true')(text)),
      ),
    );
    assert.equal(made, 1);
  });

  it('the portmap plug-in opens hostPorts on some nodes (a directory of dumps and config files)', () => {
    const dir = 'examples/cni-conflist';
    const files = readdirSync(dir, { recursive: true })
      .map((f) => join(dir, String(f)))
      .filter((f) => statSync(f).isFile())
      .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    assertSameAsUnshared(files);
  });

  it('nodePortAddresses name the nodes\u2019 network: the rules name each node\u2019s address, a ruleset per node', () => {
    const made = assertSameAsUnshared(
      cluster(
        replacing('localDetector: ClusterCIDR}', 'localDetector: ClusterCIDR, nodePortAddresses: [172.16.0.0/12]}'),
      ),
    );
    assert.equal(made, 6);
  });

  it('the NodeCIDR detector names each node pod CIDR: a ruleset per node, still right', () => {
    assert.equal(
      assertSameAsUnshared(cluster(replacing('localDetector: ClusterCIDR}', 'localDetector: NodeCIDR}'))),
      6,
    );
  });

  it('a Service with externalTrafficPolicy Local: nodes with its endpoints have their own rules', () => {
    const t = cluster(
      replacing(
        '  - name: svc0\n    type: NodePort\n',
        '  - name: svc0\n    type: NodePort\n    externalTrafficPolicy: Local\n',
      ),
    );
    const made = assertSameAsUnshared(t);
    const model = analyse([{ path: 'cluster.yaml', text: t }]).topology;
    const svc0 = model.services.find((s) => s.name === 'svc0');
    const withEndpoints = new Set(svc0?.endpoints.map((e) => e.node));
    assert.ok(withEndpoints.size >= 1 && withEndpoints.size < 6, 'some nodes have svc0 endpoints, some not');
    assert.equal(made, withEndpoints.size + 1, 'one for the nodes without its endpoints, one per node with');
  });

  it('the bridge plug-in masquerades per pod: each node its own rules, still right', () => {
    assert.equal(assertSameAsUnshared(cluster(replacing('ipMasq: false', 'ipMasq: true'))), 1);
  });

  it("a second node's trace through the shared ruleset makes no chain objects", () => {
    const t = analyse([{ path: 'cluster.yaml', text: cluster() }]).topology;
    const dp = compileDataPlane(t);
    const svc = t.services[3];
    const [a, b] = [t.pods.find((p) => p.node === t.nodes[0]?.name), t.pods.find((p) => p.node === t.nodes[1]?.name)];
    assert.ok(svc && a && b, 'two pods on two nodes');
    traceFlow(t, { from: `pod/${a.id}`, to: `svc/${svc.name}:80` }, dp);
    takeWork();
    const before = lazyParseWork.chainObjects;
    traceFlow(t, { from: `pod/${b.id}`, to: `svc/${svc.name}:80` }, dp);
    assert.equal(lazyParseWork.chainObjects - before, 0, "the second node's chains are the first's");
    assert.equal(takeWork().kubeProxyIptablesRulesets, 0, 'no ruleset scanned for the second node');
  });

  it("nodes with CNI rules of their own: kube-proxy's chains are one set of objects, the built-in chains each node's", () => {
    const t = analyse([{ path: 'cluster.yaml', text: cluster(replacing('ipMasq: false', 'ipMasq: true')) }]).topology;
    const dp = compileDataPlane(t);
    const [a, b] = nodeNetns(dp).map((id) => {
      const f = dp.namespaces.get(id)?.filter;
      return f && 'ruleset' in f ? (f.ruleset as Ruleset).tables.nat : undefined;
    });
    assert.ok(a && b, 'two nodes with a nat table');
    const kubeServices = (x: Table): Chain | undefined => chainsOf(x).get('KUBE-SERVICES');
    assert.ok(kubeServices(a), "kube-proxy's dispatch chain is there");
    assert.equal(kubeServices(a), kubeServices(b), 'the same chain object on both nodes');
    const postrouting = (x: Table): Chain | undefined => chainsOf(x).get('POSTROUTING');
    assert.notEqual(postrouting(a), postrouting(b), "each node's own POSTROUTING (its pods' masquerade chains)");
    assert.deepEqual(
      a.chains.map((c) => c.name).filter((n) => n.startsWith('KUBE-')),
      b.chains.map((c) => c.name).filter((n) => n.startsWith('KUBE-')),
    );
  });
});
