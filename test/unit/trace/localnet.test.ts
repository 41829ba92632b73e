/**
 * A node's own connection DNATed in nat OUTPUT (to its hostPort, to a NodePort on 127.0.0.1): the kernel routes it
 * again after OUTPUT, and a 127.0.0.1 source may leave by a device other than lo only where route_localnet allows it
 * (portmap sets it on the device routing to a pod with a hostPort, kube-proxy's iptables mode on all devices).
 * The kernel tier checks the same flows (test/fixtures/traces/hostport-localhost*, in both kube-proxy modes).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane, traceFlow, type TraceRequest } from '../../../src/core';
import { kubeProxySetsRouteLocalnet } from '../../../src/core/dataplane/compile';
import { buildTopology } from '../../../src/core/model/build';
import type { DropStep, Step } from '../../../src/core/trace/types';

const HOSTPORT = readFileSync('test/fixtures/traces/hostport-localhost/topology.yaml', 'utf8');
const NO_SNAT = readFileSync('test/fixtures/traces/hostport-localhost-no-snat/topology.yaml', 'utf8');
/** The same without nodePortAddresses: kube-proxy's iptables mode then sets all.route_localnet. */
const NO_SNAT_ALL = NO_SNAT.replace('    nodePortAddresses: [192.168.56.0/24]\n', '');
const nftables = (text: string): string => text.replace('    mode: iptables\n', '    mode: nftables\n');

function topologyOf(text: string) {
  return buildTopology([{ path: 'lab.yaml', text }]).topology;
}

function trace(text: string, req: TraceRequest) {
  const out = traceFlow(topologyOf(text), req);
  assert.ok(out.result, JSON.stringify(out.problems));
  return out.result;
}

const drops = (steps: readonly Step[]): DropStep[] => steps.filter((s): s is DropStep => s.kind === 'drop');

describe('trace: route_localnet after DNAT in OUTPUT', () => {
  it('portmap (snat on) sets route_localnet on the device routing to its pod; kube-proxy iptables mode on all', () => {
    const dp = compileDataPlane(topologyOf(nftables(HOSTPORT)));
    const node2 = dp.namespaces.get('node:node2');
    assert.deepEqual(
      node2?.interfaces.filter((i) => i.routeLocalnet).map((i) => i.name),
      ['cni0'],
    );
    assert.equal(node2?.routeLocalnet, undefined, 'nftables mode: kube-proxy leaves all.route_localnet alone');
    assert.deepEqual(
      dp.namespaces.get('node:node1')?.interfaces.filter((i) => i.routeLocalnet),
      [],
      'node1 has no pod with a hostPort',
    );
    assert.notEqual(NO_SNAT_ALL, NO_SNAT);
    const noSnat = compileDataPlane(topologyOf(NO_SNAT_ALL)).namespaces.get('node:node2');
    assert.deepEqual(
      noSnat?.interfaces.filter((i) => i.routeLocalnet),
      [],
      'snat off: portmap sets nothing',
    );
    assert.equal(noSnat?.routeLocalnet, true, 'iptables mode: kube-proxy sets all.route_localnet');
  });

  it('kube-proxy sets all.route_localnet only where NodePorts answer on 127.0.0.1', () => {
    const withAddresses = (list: string) =>
      kubeProxySetsRouteLocalnet(
        topologyOf(
          HOSTPORT.replace('    masqueradeAll: false\n', `    masqueradeAll: false\n    nodePortAddresses: ${list}\n`),
        ),
      );
    assert.equal(kubeProxySetsRouteLocalnet(topologyOf(HOSTPORT)), true);
    assert.equal(kubeProxySetsRouteLocalnet(topologyOf(nftables(HOSTPORT))), false);
    assert.equal(withAddresses('[192.168.56.0/24]'), false);
    assert.equal(withAddresses('[192.168.56.0/24, 127.0.0.0/8]'), true);
  });

  it("a node's connection to 127.0.0.1:hostPort leaves by cni0 and is masqueraded to cni0's address", () => {
    const r = trace(nftables(HOSTPORT), { from: 'node/node2', to: '127.0.0.1:8000', reply: true });
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.delivered?.name, p.sourceSeen, p.reply?.disposition]),
      [['delivered', 'default/web-2', '10.244.2.1', 'delivered']],
    );
    assert.deepEqual(
      r.paths[0].hops.map((h) => `${h.netns} ${h.device} ${h.dir}`),
      ['node:node2 cni0 out', 'node:node2 veth83bbce30 out', 'pod:default/web-2 eth0 in'],
      'never delivered on lo',
    );
  });

  it('without route_localnet on the way out, node2 drops it in OUTPUT after DNAT (martian), naming the device', () => {
    const r = trace(NO_SNAT, { from: 'node/node2', to: '127.0.0.1:8000' });
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.reason]),
      [['dropped', 'martian']],
    );
    const [drop] = drops(r.paths[0].origin?.steps ?? []);
    assert.equal(drop.netns, 'node:node2');
    assert.equal(drop.device, 'cni0');
    assert.equal(drop.address, '127.0.0.1');
    assert.match(drop.detail, /route_localnet is 0/);
  });

  it('with all.route_localnet but no masquerade, the ARP request carries 127.0.0.1 and web-2 never answers', () => {
    const r = trace(NO_SNAT_ALL, { from: 'node/node2', to: '127.0.0.1:8000' });
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.reason]),
      [['dropped', 'no-neighbor']],
    );
    const neighbor = r.paths[0].hops[0].steps.find((s) => s.kind === 'neighbor');
    assert.ok(neighbor && neighbor.kind === 'neighbor' && !neighbor.answer);
    assert.match(neighbor.detail, /sender address 127\.0\.0\.1/);
  });

  it("a node's connection to its own address and hostPort is routed to the pod, not delivered on lo", () => {
    const r = trace(HOSTPORT, { from: 'node/node2', to: '192.168.56.12:8000' });
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.delivered?.name, p.sourceSeen]),
      [['delivered', 'default/web-2', '192.168.56.12']],
    );
  });

  it('a NodePort on 127.0.0.1 reaches both backends in iptables mode (kube-proxy masquerades it)', () => {
    const r = trace(HOSTPORT, { from: 'node/node2', to: '127.0.0.1:30080' });
    assert.deepEqual(r.paths.map((p) => [p.disposition, p.delivered?.name, p.sourceSeen]).sort(), [
      ['delivered', 'default/web-1', '192.168.56.12'],
      ['delivered', 'default/web-2', '10.244.2.1'],
    ]);
  });
});
