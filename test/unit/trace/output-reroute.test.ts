/**
 * A node's own connection to a ClusterIP (a node process, or a host-network pod): the kernel runs nat OUTPUT on the
 * route first looked up, routes again when the DNAT changed the destination (nf_nat_ipv4_local_fn ->
 * ip_route_me_harder), and only then runs filter OUTPUT, on the new route's device. The trace shows the steps in
 * that order, and filter OUTPUT's `-o` matches see the device the packet really leaves by.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { traceFlow } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';
import type { Step } from '../../../src/core/trace/types';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
const NODE1 = '      - {name: eth0, network: lan, address: 192.168.56.11/24}\n    podCIDR: 10.244.1.0/24\n';

/** The lab with node1 given a default route (a ClusterIP is routed by it first) and, optionally, its own rules. */
function lab(iptables = '', mode = 'iptables') {
  assert.ok(LAB.includes(NODE1));
  const own = iptables ? `    iptables: |\n${iptables.replace(/^/gm, '      ')}\n` : '';
  const text = LAB.replace(NODE1, `${NODE1}    routes: [{to: default, via: 192.168.56.1}]\n${own}`).replace(
    'mode: iptables',
    `mode: ${mode}`,
  );
  return buildTopology([{ path: 'lab.netpath.yaml', text }]).topology;
}

/** What a step is, for an order: the route steps with their device, netfilter steps by hook and base chain. */
const shape = (s: Step): string =>
  s.kind === 'route'
    ? `route ${s.dev ?? ''}${s.reroute ? ' (re-routed)' : ''}`
    : s.kind === 'netfilter'
      ? `${s.hook} ${s.table === 'nat' || s.table === 'filter' ? `${s.table} ${s.chain}` : s.chain}`
      : s.kind;

describe('trace: OUTPUT re-routes after nat, before filter', () => {
  for (const [mode, nat, filter] of [
    ['iptables', 'OUTPUT nat OUTPUT', 'OUTPUT filter OUTPUT'],
    // kube-proxy's nftables chains: nat-output at dstnat (-100), filter-output after it (-90).
    ['nftables', 'OUTPUT nat-output', 'OUTPUT filter-output'],
  ] as const) {
    it(`${mode} mode: route, nat OUTPUT and its DNAT, the re-route, then filter OUTPUT`, () => {
      const paths = traceFlow(lab('', mode), { from: 'node/node1', to: 'svc/default/web:http' }).result?.paths ?? [];
      assert.equal(paths.length, 2, 'one path per endpoint');
      for (const p of paths) {
        assert.equal(p.disposition, 'delivered');
        const steps = [...(p.origin?.steps ?? []), ...(p.hops[0]?.steps ?? [])].map(shape);
        const dev = p.nat[0]?.after.dst === '10.244.1.11' ? 'cni0' : 'eth0';
        const at = (x: string) => steps.indexOf(x);
        const reroute = at(`route ${dev} (re-routed)`);
        const order = steps.join(' | ');
        assert.equal(steps[0], 'route eth0', order);
        assert.ok(at(nat) > 0 && at(nat) < reroute, order);
        assert.equal(steps[reroute - 1], 'nat', `the DNAT is shown right before the re-route: ${order}`);
        assert.ok(at(filter) > reroute, order);
        assert.ok(
          steps.slice(reroute).every((x) => x !== nat),
          order,
        );
      }
    });
  }

  it("filter OUTPUT's -o still names the first route's device (the kernel does not update it on the re-route)", () => {
    // Checked by the kernel tier (node-to-clusterip-filter-after-reroute): only POSTROUTING sees the new device.
    const outcome = (rule: string) =>
      new Map(
        (
          traceFlow(lab(`*filter\n${rule}\nCOMMIT`), { from: 'node/node1', to: 'svc/default/web:http' }).result
            ?.paths ?? []
        ).map((p) => [p.nat.find((e) => e.type === 'DNAT')?.after.dst, p.disposition]),
      );
    assert.deepEqual(
      Object.fromEntries(outcome('-A OUTPUT -o eth0 -p tcp -m tcp --dport 8080 -j DROP')),
      { '10.244.1.11': 'dropped', '10.244.2.10': 'dropped' },
      'the first route (default) is by eth0 for both endpoints',
    );
    assert.deepEqual(
      Object.fromEntries(outcome('-A OUTPUT -o cni0 -p tcp -m tcp --dport 8080 -j DROP')),
      { '10.244.1.11': 'delivered', '10.244.2.10': 'delivered' },
      'no connection is seen leaving by cni0 in OUTPUT, though the local one does',
    );
  });
});
