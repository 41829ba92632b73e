/**
 * CNI plug-ins: the model says which plug-in wires a node, the data plane is the plug-in's wiring, and what draws
 * or explains a node reads the plug-in's view (a node without a bridge is not assumed to have one).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { CNI_PLUGINS, cniPluginOf, cniViewOf } from '../../../src/core/cni';
import { buildTopology } from '../../../src/core/model/build';
import type { Topology } from '../../../src/core/model/types';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
const topo = (text = LAB): Topology => buildTopology([{ path: 'lab.netpath.yaml', text }]).topology;

describe('cni (plug-ins)', () => {
  it('a node uses the bridge plug-in by default; cluster cni.plugin and a node cni name it', () => {
    const t = topo();
    assert.deepEqual(
      t.nodes.map((n) => n.cni),
      ['bridge', 'bridge'],
    );
    assert.equal(t.cluster.cni.plugin, 'bridge');
    const named = topo(LAB.replace('  - name: node1\n', '  - name: node1\n    cni: bridge\n'));
    assert.equal(named.nodes[0].cni, 'bridge');
    assert.equal(cniPluginOf(named.nodes[0]), CNI_PLUGINS.bridge);
  });

  it('an unknown plug-in name is a schema problem at the value, and the node falls back to the default', () => {
    const text = LAB.replace('  - name: node1\n', '  - name: node1\n    cni: weave\n');
    const a = analyse([{ path: 'lab.netpath.yaml', text }]);
    const p = a.problems.find((x) => text.slice(x.span.start, x.span.end) === 'weave');
    assert.ok(p, JSON.stringify(a.problems.map((x) => x.code)));
    assert.match(p.code, /^schema\./);
    assert.equal(a.topology.nodes[0].cni, 'bridge');
  });

  it("the bridge plug-in's view and wiring are what the data plane holds", () => {
    const t = topo();
    const node1 = t.nodes[0];
    const view = cniViewOf(node1);
    assert.deepEqual(view.bridge, { name: 'cni0', addresses: ['10.244.1.1/24'], hairpin: true });
    assert.equal(view.podSideDevice, 'cni0');
    assert.match(view.summary, /^CNI bridge plug-in: bridge cni0 10\.244\.1\.1\/24, hairpin on$/);
    const dp = compileDataPlane(t);
    const ns = dp.namespaces.get('node:node1')!;
    const wiring = cniPluginOf(node1).wireNode(
      node1,
      t.pods.filter((p) => p.node === 'node1' && !p.hostNetwork),
      t,
    );
    assert.deepEqual(ns.bridges, wiring.bridges);
    for (const i of wiring.interfaces)
      assert.deepEqual(
        ns.interfaces.find((x) => x.name === i.name),
        i,
      );
    const client = dp.namespaces.get('pod:default/client')!;
    assert.ok(client.routes.some((r) => r.text === 'default via 10.244.1.1 dev eth0' && r.kind === 'gateway'));
  });

  it("the bridge plug-in's nodes share their wiring's getters, and each makes its ports once, when read", () => {
    const t = topo();
    const [node1, node2] = t.nodes;
    const podsOf = (name: string) => t.pods.filter((p) => p.node === name && !p.hostNetwork);
    const a = cniPluginOf(node1).wireNode(node1, podsOf('node1'), t);
    const b = cniPluginOf(node2).wireNode(node2, podsOf('node2'), t);
    // Getters of their own (new functions per node) would keep each node's wiring a hash table of its properties.
    assert.equal(Object.getOwnPropertyDescriptor(a, 'interfaces'), undefined);
    assert.equal(Object.getOwnPropertyDescriptor(a, 'bridges'), undefined);
    assert.equal(Object.getPrototypeOf(a), Object.getPrototypeOf(b));
    assert.equal(a.interfaces, a.interfaces);
    assert.equal(a.bridges, a.bridges);
    assert.deepEqual(
      a.bridges[0].ports.map((x) => x.device),
      podsOf('node1').map((p) => p.hostVeth),
    );
    assert.notDeepEqual(a.bridges, b.bridges);
  });

  it('a node without a bridge gets no bridge, no veth ports and no pod default route, and nothing assumes one', () => {
    const t = topo();
    const bare = { ...t, nodes: t.nodes.map((n) => (n.name === 'node1' ? { ...n, bridge: undefined } : n)) };
    const view = cniViewOf(bare.nodes[0]);
    assert.equal(view.bridge, undefined);
    assert.deepEqual(view.devices, []);
    const dp = compileDataPlane(bare);
    assert.deepEqual(dp.namespaces.get('node:node1')!.bridges, []);
    assert.ok(!dp.namespaces.get('pod:default/client')!.routes.some((r) => r.to === 'default'));
    const { result } = traceFlow(bare, { from: 'pod/client', to: 'pod/web-2:8080' }, dp);
    assert.equal(result?.paths[0].disposition, 'no-route');
  });
});
