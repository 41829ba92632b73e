/**
 * The topology graph's groups (src/webview/topology/graph.ts): any node or Service of a cluster up to Kubernetes'
 * limits is drawn once the groups groupsHolding names are open, every level a person opens holds a few dozen boxes
 * at most, and allGroups lists exactly the groups the graph can draw.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TopologySummary } from '../../../src/protocol/messages';
import {
  allGroups,
  buildGraph,
  groupsHolding,
  MAX_OPEN,
  MAX_SHOWN,
  nodeId,
  nodesGroupId,
  servicesGroupId,
} from '../../../src/webview/topology/graph';

const NO_FILTER = { namespace: '', label: '', search: '' };

function cluster(nodes: number, services: number): TopologySummary {
  return {
    name: 'groups',
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `node-${i}`,
      addresses: [],
      interfaces: [],
      podCIDRs: [],
      bridge: '',
      bridgeName: 'cni0',
      bridgeAddresses: [],
      span: { file: '/work/groups.yaml', start: i, end: i + 1 },
    })),
    pods: [],
    services: Array.from({ length: services }, (_, i) => ({
      id: `default/svc-${i}`,
      namespace: 'default',
      type: 'ClusterIP',
      clusterIPs: [],
      endpointPods: [],
      ports: [],
      span: { file: '/work/groups.yaml', start: 10_000 + i, end: 10_001 + i },
    })),
    externals: [],
    networks: [],
    diagnostics: 0,
  };
}

/** The boxes drawn directly inside each open group (and at the top level). */
function levelSizes(elk: { children?: readonly unknown[] }): number[] {
  const out: number[] = [];
  const walk = (n: { children?: readonly unknown[] }) => {
    if (!n.children?.length) return;
    out.push(n.children.length);
    for (const c of n.children) walk(c as { children?: readonly unknown[] });
  };
  walk(elk);
  return out;
}

describe('topology graph: groups of nodes and Services', () => {
  it('opening the groups that hold a node or a Service draws it, and no level holds more than a few dozen boxes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.nat(),
        fc.nat(),
        (nodes, services, n, s) => {
          const t = cluster(nodes, services);
          const node = n % nodes;
          const open = new Set(groupsHolding(nodes, node, nodesGroupId));
          if (services) for (const id of groupsHolding(services, s % services, servicesGroupId)) open.add(id);
          const g = buildGraph(t, open, NO_FILTER);
          assert.ok(g.info.has(nodeId(`node-${node}`)), `node-${node} of ${nodes} is drawn`);
          if (services) assert.ok(g.info.has(`svc:default/svc-${s % services}`));
          // Top level: at most six node groups and six Service groups (or up to MAX_SHOWN of each alone).
          const [top = 0, ...inner] = levelSizes(g.elk);
          assert.ok(top <= 2 * MAX_SHOWN, `top level holds ${top}`);
          for (const k of inner) assert.ok(k <= MAX_OPEN, `an open group holds ${k} boxes`);
          // Only what is open is drawn: a group's members are few.
          assert.ok(g.info.size <= 2 * MAX_SHOWN + 4 * 6 + 2 * MAX_OPEN, `${g.info.size} elements drawn`);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('allGroups lists every group the graph draws when all are open, no more', () => {
    for (const count of [1, 16, 17, 100, 181, 500, 5000]) {
      const groups = allGroups(count, nodesGroupId);
      const g = buildGraph(cluster(count, 0), new Set(groups), NO_FILTER);
      const drawn = [...g.info.values()].filter((i) => i.kind === 'nodes').map((i) => i.id);
      assert.deepEqual(drawn.sort(), [...groups].sort(), `${count} nodes`);
      assert.equal([...g.info.values()].filter((i) => i.kind === 'node').length, count, `${count} nodes drawn`);
      assert.equal(groups.length === 0, count <= MAX_SHOWN);
    }
  });

  it('5,000 nodes open in three levels: 6 groups of 834, 6 of 139, 6 of 24', () => {
    assert.deepEqual(groupsHolding(5000, 4999, nodesGroupId), ['nodes:5', 'nodes:5.5', 'nodes:5.5.5']);
    const g = buildGraph(cluster(5000, 0), new Set(['nodes:0', 'nodes:0.0', 'nodes:0.0.0']), NO_FILTER);
    const labels = [...g.info.values()].filter((i) => i.kind === 'nodes').map((i) => `${i.id} ${i.sub}`);
    assert.ok(labels.includes('nodes:0 834 nodes · 0 pods'), labels.join('\n'));
    assert.ok(labels.includes('nodes:0.0 139 nodes · 0 pods'), labels.join('\n'));
    assert.ok(labels.includes('nodes:0.0.0 24 nodes · 0 pods'), labels.join('\n'));
    assert.equal([...g.info.values()].filter((i) => i.kind === 'node').length, 24);
  });
});
