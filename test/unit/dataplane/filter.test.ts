/**
 * The packet-filter backend interface: the walk asks a node's filter, whatever backend it is, and reads only what
 * the interface returns (a verdict, decisions, translations, a chain's role), never an iptables ruleset.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane, traceFlow, type DataPlane } from '../../../src/core';
import type { FilterResult, PacketFilter } from '../../../src/core/dataplane/filter';
import type { IptablesFilter } from '../../../src/core/dataplane/iptables-filter';
import { buildTopology } from '../../../src/core/model/build';

const topology = buildTopology([
  { path: 'lab.yaml', text: readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8') },
]).topology;

/** A backend that accepts everything but drops forwarded traffic in a chain it calls a Service firewall. */
function stubFilter(calls: string[]): PacketFilter {
  return {
    backend: 'nftables',
    evaluate(hook, packet): FilterResult {
      // (A bridge-only hook: the bridge family's chains of a frame crossing a bridge, which an nftables backend has.)
      // (A device's netdev ingress alone: the bridge device's, for a frame the bridge passes up to the node.)
      calls.push(
        packet.bridgeFrame?.only
          ? `bridge ${hook}`
          : packet.netdevIngress === 'only'
            ? `netdev ingress of ${packet.inIface}`
            : hook,
      );
      const drop = hook === 'FORWARD';
      return {
        outcomes: [
          {
            probability: 1,
            verdict: drop ? 'DROP' : 'ACCEPT',
            packet,
            nat: [],
            problems: [],
            decisions: drop
              ? [
                  {
                    table: 'ip guard',
                    chain: 'lb-sources',
                    ruleIndex: 0,
                    ruleText: 'ip saddr != 192.0.2.0/24 drop',
                    matched: true,
                    action: 'drop',
                    effect: 'DROP',
                  },
                ]
              : [],
          },
        ],
      };
    },
    text: 'table ip guard {}\n',
    problems: [],
    blocks: [],
    authorAt: () => undefined,
    rules: () => [],
    chainRole: (table, chain) => (table === 'ip guard' && chain === 'lb-sources' ? 'service-firewall' : undefined),
  };
}

function withFilter(dp: DataPlane, node: string, filter: PacketFilter): DataPlane {
  const namespaces = new Map(dp.namespaces);
  const n = namespaces.get(`node:${node}`)!;
  namespaces.set(n.id, { ...n, filter });
  return { ...dp, namespaces };
}

describe('dataplane/filter (packet-filter backends)', () => {
  it('the walk runs any backend: a drop in a chain the backend calls the Service firewall is a source-range drop', () => {
    const calls: string[] = [];
    const dp = withFilter(compileDataPlane(topology), 'node1', stubFilter(calls));
    const { result } = traceFlow(topology, { from: 'pod/client', to: 'pod/web-2:8080' }, dp);
    assert.ok(result);
    const [path] = result.paths;
    assert.equal(path.disposition, 'dropped');
    assert.equal(path.reason, 'source-range');
    const last = path.hops[path.hops.length - 1].steps.at(-1)!;
    assert.equal(last.kind, 'drop');
    assert.ok(last.kind === 'drop' && last.table === 'ip guard' && last.chain === 'lb-sources');
    const fw = path.hops.flatMap((h) => h.steps).find((s) => s.kind === 'netfilter');
    assert.ok(fw && fw.kind === 'netfilter' && fw.role === 'service-firewall' && fw.verdict === 'DROP');
    // The frame for client's gateway crosses cni0: br_netfilter's PREROUTING, the bridge's input on its way up to
    // node1's stack, cni0's netdev ingress as cni0 receives it there (not before the bridge's hooks), then the routed
    // FORWARD (no NetworkPolicy in this topology: the hook in one part).
    assert.deepEqual(calls, ['PREROUTING', 'bridge INPUT', 'netdev ingress of cni0', 'FORWARD']);
  });

  it('the iptables backend lists its rules with what they match on and tells who wrote them', () => {
    const f = compileDataPlane(topology).namespaces.get('node:node1')!.filter as IptablesFilter;
    assert.equal(f.backend, 'iptables');
    const rules = [...f.rules()];
    const toService = rules.find((r) => r.chain === 'KUBE-SERVICES' && r.prefixes.length);
    assert.ok(toService, "kube-proxy's rule for the ClusterIP");
    assert.deepEqual(
      toService.prefixes.map((p) => p.text),
      ['10.96.0.10/32'],
    );
    assert.equal(f.authorAt(toService.span), 'kube-proxy');
    const svc = rules.find((r) => r.chain.startsWith('KUBE-SVC-'))!;
    assert.equal(f.authorAt({ file: 'lab.netpath.yaml', start: 0, end: 1 }), 'node-iptables');
    assert.equal(f.text.slice(svc.span.start, svc.span.end), svc.text);
    assert.equal(f.chainRole('nat', svc.chain), undefined);
    assert.equal(f.chainRole('filter', 'KUBE-PROXY-FIREWALL'), 'service-firewall');
  });
});
