/**
 * A pod's namespace, its plug-in's wiring, the source address a device sends from and the addresses a packet filter
 * reads, as they are built now (per-node parts shared, arrays of their size, loops) compared with the way they were
 * built before: the same values, fields in the same order, on every example cluster and on pods made to be odd.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { compileDataPlane } from '../../../src/core';
import { cniPluginOf } from '../../../src/core/cni';
import { podMtuOf } from '../../../src/core/cni/mtu';
import {
  connectedRoute,
  deviceOfLocal,
  isLocalAddress,
  sortRoutes,
  sourceAddressFor,
} from '../../../src/core/dataplane/routes';
import type { DpInterface, DpRoute, InterfaceAddress, Netns } from '../../../src/core/dataplane/types';
import { buildTopology } from '../../../src/core/model/build';
import type { Pod, Topology } from '../../../src/core/model/types';
import {
  formatAddress,
  parseAddress,
  parsePrefix,
  prefixContainsAddress,
  type Address,
  type Family,
} from '../../../src/core/net/address';
import { addressesOf } from '../../../src/core/trace/walk';

const LO: DpInterface = {
  name: 'lo',
  kind: 'loopback',
  addresses: [
    { family: 4, address: '127.0.0.1', length: 8 },
    { family: 6, address: '::1', length: 128 },
  ],
};

/** A pod's namespace as compile.ts built it before (spreads, pushes from empty, a wiring made per pod). */
function podNetnsBefore(t: Topology, pod: Pod): Netns {
  const node = t.nodes.find((n) => n.name === pod.node);
  const subnets = node ? node.podCIDRs.flatMap((c) => parsePrefix(c) ?? []) : [];
  const addresses: InterfaceAddress[] = [];
  for (const ip of pod.ips) {
    const a = parseAddress(ip);
    if (!a) continue;
    const subnet = subnets.find((p) => p.family === a.family && prefixContainsAddress(p, a));
    addresses.push({
      family: a.family,
      address: a.family === 4 ? ip.trim() : formatAddress(a),
      length: subnet?.length ?? (a.family === 4 ? 32 : 128),
    });
  }
  const podWiring = node ? cniPluginOf(node).wirePod(node, pod, addresses, t) : undefined;
  const mtu = node ? podMtuOf(t, node) : undefined;
  const eth0: DpInterface = {
    name: 'eth0',
    kind: 'veth',
    addresses: podWiring?.addresses ?? addresses,
    ...(node ? { peer: { netns: `node:${pod.node}`, device: pod.hostVeth } } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
  };
  const interfaces = [LO, eth0];
  const connected = interfaces.flatMap((i) =>
    i.kind === 'loopback'
      ? []
      : i.addresses.flatMap((x) => (x.family === 4 && x.length === 32 ? [] : (connectedRoute(i.name, x) ?? []))),
  );
  return {
    id: `pod:${pod.id}`,
    kind: 'pod',
    name: pod.id,
    node: pod.node,
    interfaces,
    routes: sortRoutes([...connected, ...(podWiring?.routes ?? [])]),
    bridges: [],
    listeners: pod.containers.flatMap((c) =>
      c.ports.map((port) => ({
        pod: pod.id,
        container: c.name,
        port: port.containerPort,
        protocol: port.protocol,
        ...(port.name ? { name: port.name } : {}),
      })),
    ),
    pods: [pod.id],
    forwarding: false,
    brNetfilter: false,
  };
}

/** JSON with a prefix's bigint address as its decimal text. */
const jsonOf = (x: unknown): string => JSON.stringify(x, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));

/** Every pod that has a namespace of its own is built as it was before: equal values, fields in the same order. */
function assertPodsAsBefore(t: Topology, label: string): number {
  const dp = compileDataPlane(t);
  let pods = 0;
  for (const pod of t.pods) {
    const ns = dp.namespaces.get(`pod:${pod.id}`);
    if (!ns || ns.kind !== 'pod') continue;
    const before = podNetnsBefore(t, pod);
    assert.deepStrictEqual(ns, before, `${label}: ${pod.id}`);
    assert.equal(jsonOf(ns), jsonOf(before), `${label}: ${pod.id} in field order`);
    pods++;
  }
  return pods;
}

function topologyOf(path: string, text: string): Topology {
  return buildTopology([{ path, text }]).topology;
}

describe('data plane: pod namespaces built as before', () => {
  it('on every example cluster', () => {
    let pods = 0;
    for (const dir of readdirSync('examples')) {
      const path = `examples/${dir}/cluster.netpath.yaml`;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      pods += assertPodsAsBefore(topologyOf(path, text), dir);
    }
    assert.ok(pods > 20, `${pods} pods compared`);
  });

  it('on odd pods: dual stack, IPv6 first, spaced and unparsable addresses, a missing node, a pod MTU', () => {
    const lab = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
    const odd = `  - {name: dual, node: node2, ips: [10.244.2.11, "fd00:0:0::0:1"]}
  - {name: six-first, node: node1, ips: ["fd00::2", 10.244.1.12]}
  - {name: six, node: node1, ips: ["fd00::3"]}
  - {name: spaced, node: node2, ip: " 10.244.2.20 "}
  - {name: broken, node: node2, ip: 10.244.2.012}
  - {name: elsewhere, node: node1, ip: 10.99.0.5}
  - {name: homeless, node: node9, ip: 10.244.9.5}
  - {name: ported, node: node1, ip: 10.244.1.30, containers: [{name: a, ports: [{containerPort: 80, name: http}, {containerPort: 53, protocol: UDP}]}, {name: b, ports: [{containerPort: 9090}]}]}
services:
`;
    const text = lab.replace('services:\n', odd);
    assert.ok(assertPodsAsBefore(topologyOf('lab.netpath.yaml', text), 'lab') >= 10);
    const withMtu = text.replace(/^cluster:\n/m, 'cluster:\n  cni:\n    mtu: 1400\n');
    assert.notEqual(withMtu, text);
    assertPodsAsBefore(topologyOf('lab.netpath.yaml', withMtu), 'lab with cni.mtu');
    for (const dir of ['cni-flannel-vxlan-dual-stack', 'cni-calico-vxlan-dual-stack', 'cni-ptp']) {
      const path = `examples/${dir}/cluster.netpath.yaml`;
      const source = readFileSync(path, 'utf8');
      assertPodsAsBefore(topologyOf(path, source), dir);
    }
  });

  it('gives the pods of a node one wiring per set of families, the routes a wiring made per pod had', () => {
    const path = 'examples/cni-flannel-vxlan-dual-stack/cluster.netpath.yaml';
    const t = topologyOf(path, readFileSync(path, 'utf8'));
    const node = t.nodes[0];
    const pod = t.pods.find((p) => p.node === node.name)!;
    const v4: InterfaceAddress = { family: 4, address: '10.244.1.10', length: 24 };
    const v6: InterfaceAddress = { family: 6, address: 'fd00:10:244:1::10', length: 64 };
    const plugin = cniPluginOf(node);
    for (const addresses of [[], [v4], [v6], [v4, v6], [v6, v4]]) {
      const wiring = plugin.wirePod(node, pod, addresses, t);
      assert.equal(plugin.wirePod(node, pod, addresses.slice(), t), wiring, 'shared');
      const all = plugin.wirePod(node, pod, [v4, v6], t).routes;
      const expected = all.filter((r: DpRoute) => addresses.some((a) => a.family === r.prefix.family));
      assert.deepStrictEqual(wiring.routes, expected);
    }
  });
});

/** sourceAddressFor as it was (a filtered copy of the device's addresses, then a find). */
function sourceAddressBefore(
  iface: DpInterface | undefined,
  family: Family,
  nextHop?: Address,
  ns?: Pick<Netns, 'interfaces'>,
): string | undefined {
  if (!iface) return undefined;
  const same = iface.addresses.filter((x) => x.family === family);
  if (nextHop) {
    const inSubnet = same.find((x) => {
      const p = parsePrefix(`${x.address}/${x.length}`);
      return p && prefixContainsAddress(p, nextHop);
    });
    if (inSubnet) return inSubnet.address;
  }
  if (same[0] || !ns) return same[0]?.address;
  for (const i of ns.interfaces) {
    if (i.kind === 'loopback') continue;
    const a = i.addresses.find((x) => x.family === family);
    if (a) return a.address;
  }
  return undefined;
}

const interfaceAddress = fc.oneof(
  fc
    .record({
      a: fc.constantFrom('10.0.0.1', '10.0.1.1', '10.0.0.7', '192.168.1.2'),
      length: fc.constantFrom(8, 24, 32),
    })
    .map(({ a, length }): InterfaceAddress => ({ family: 4, address: a, length })),
  fc
    .record({ a: fc.constantFrom('fd00::1', 'fd00:1::1', '::1'), length: fc.constantFrom(64, 128) })
    .map(({ a, length }): InterfaceAddress => ({ family: 6, address: a, length })),
);
const device = fc.record({
  name: fc.constantFrom('lo', 'eth0', 'eth1', 'cni0', '__proto__', 'toString'),
  kind: fc.constantFrom<DpInterface['kind']>('loopback', 'veth', 'bridge', 'physical'),
  addresses: fc.array(interfaceAddress, { maxLength: 4 }),
});

describe('sourceAddressFor and a filter’s addresses, as before', () => {
  it('picks the same source address', () => {
    fc.assert(
      fc.property(
        fc.array(device, { maxLength: 5 }),
        fc.nat(6),
        fc.constantFrom<Family>(4, 6),
        fc.option(fc.constantFrom('10.0.0.9', '10.0.1.9', '10.9.9.9', '192.168.1.9', 'fd00::9', 'fd00:1::9')),
        fc.boolean(),
        (interfaces, at, family, nextHop, withNs) => {
          const iface = interfaces[at];
          const hop = nextHop === null ? undefined : parseAddress(nextHop);
          const ns = withNs ? { interfaces } : undefined;
          assert.equal(sourceAddressFor(iface, family, hop, ns), sourceAddressBefore(iface, family, hop, ns));
        },
      ),
    );
  });

  it('lists the same addresses, by device the last of a name, as an object of own properties', () => {
    fc.assert(
      fc.property(fc.array(device, { maxLength: 6 }), (interfaces) => {
        const n = { id: 'node:x', interfaces } as unknown as Netns;
        const got = addressesOf(n);
        assert.deepStrictEqual(
          got.local,
          interfaces.flatMap((i) => i.addresses.map((x) => x.address)),
        );
        const before = Object.fromEntries(interfaces.map((i) => [i.name, i.addresses.map((x) => x.address)]));
        // Own entries alike (now without a prototype: a name like toString reads nothing it does not hold).
        assert.deepStrictEqual(Object.entries(got.byInterface), Object.entries(before));
        for (const i of interfaces) assert.deepStrictEqual(got.byInterface[i.name], before[i.name]);
        assert.equal(got.byInterface.valueOf, undefined);
      }),
    );
  });
});

describe('a pod namespace’s local addresses, read from its devices, as from the map other namespaces keep', () => {
  it('finds the same device for every address, loopback ones and a pod holding one included', () => {
    const eth0Address = fc.oneof(
      interfaceAddress,
      fc.constantFrom<InterfaceAddress>(
        { family: 4, address: '127.0.0.1', length: 8 },
        { family: 4, address: '127.0.0.5', length: 32 },
        { family: 6, address: '::1', length: 128 },
      ),
    );
    fc.assert(
      fc.property(
        fc.array(eth0Address, { maxLength: 3 }),
        fc.constantFrom(
          '10.0.0.1',
          '10.0.1.1',
          '10.0.0.7',
          '192.168.1.2',
          '127.0.0.1',
          '127.0.0.5',
          'fd00::1',
          '::1',
          '::2',
          '10.9.9.9',
        ),
        (addresses, text) => {
          const a = parseAddress(text)!;
          const interfaces: DpInterface[] = [LO, { name: 'eth0', kind: 'veth', addresses }];
          const base = { id: 'x', name: 'x', routes: [], bridges: [], listeners: [], pods: [], interfaces };
          const pod = { ...base, kind: 'pod', forwarding: false, brNetfilter: false } as Netns;
          const other = { ...base, kind: 'external', forwarding: false, brNetfilter: false } as Netns;
          assert.equal(isLocalAddress(pod, a), isLocalAddress(other, a));
          assert.equal(deviceOfLocal(pod, a), deviceOfLocal(other, a));
        },
      ),
    );
  });
});
