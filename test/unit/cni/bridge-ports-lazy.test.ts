/**
 * The bridge plug-in's host veths (one per pod, each a bridge port) are made when a node's devices or bridges are
 * first read, not when the data plane is compiled: a lint or a first trace makes those of the few nodes it crosses.
 * Counted (src/core/work.ts), never timed.
 */
import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { nodeNetns } from '../../../src/core/dataplane/compile';
import { takeWork } from '../../../src/core/work';
import { netpathCluster, type ClusterSize } from '../../../bench/cluster';

const SMALL: ClusterSize = { name: 'small', nodes: 6, pods: 120, services: 12 };
const LARGE: ClusterSize = { name: 'large', nodes: 12, pods: 240, services: 24 };
const PODS_PER_NODE = SMALL.pods / SMALL.nodes;

function analysed(size: ClusterSize): ReturnType<typeof analyse> {
  takeWork();
  return analyse([{ path: `c${size.nodes}.netpath.yaml`, text: netpathCluster(size) }]);
}

describe('bridge plug-in: host veths made when read', () => {
  it('compiling the data plane makes no host veth; reading a node makes its own, once', () => {
    const a = analysed(SMALL);
    takeWork();
    const dp = compileDataPlane(a.topology);
    assert.equal(takeWork().podPorts, 0);
    const node = a.topology.nodes[0];
    const ns = dp.namespaces.get(nodeNetns(node.name));
    assert.ok(ns);
    const veths = ns.interfaces.filter((i) => i.kind === 'veth');
    assert.equal(ns.interfaces, ns.interfaces, 'the same list on each read');
    assert.equal(veths.length, PODS_PER_NODE);
    assert.deepEqual(
      ns.bridges[0]?.ports.map((p) => p.device),
      veths.map((v) => v.name),
    );
    assert.equal(takeWork().podPorts, PODS_PER_NODE);
  });

  it('a lint makes the host veths of the nodes its probes cross, not of every pod, at any cluster size', () => {
    const small = (analysed(SMALL), takeWork().podPorts);
    const large = (analysed(LARGE), takeWork().podPorts);
    assert.ok(small > 0 && small < SMALL.pods, `${small} of ${SMALL.pods}`);
    assert.ok(large <= small, `${large} host veths for twice the cluster, ${small} before`);
  });

  it('a first trace to a Service makes the host veths of the nodes it crosses only', () => {
    const a = analysed(LARGE);
    const dp = compileDataPlane(a.topology);
    takeWork();
    const out = traceFlow(a.topology, { from: `pod/${a.topology.pods[0].id}`, to: 'svc/svc1:http' }, dp);
    assert.ok(out.result?.paths.every((p) => p.disposition === 'delivered'));
    const crossed = new Set(out.result?.paths.flatMap((p) => p.hops.map((h) => h.netns)));
    const nodes = a.topology.nodes.filter((n) => crossed.has(nodeNetns(n.name))).length;
    assert.ok(nodes > 0 && nodes < LARGE.nodes);
    assert.equal(takeWork().podPorts, nodes * PODS_PER_NODE);
  });
});
