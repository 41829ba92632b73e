/**
 * A node's own `nftables:` text is evaluated by traces with kube-proxy's rules (both modes), each base chain at its
 * priority as the kernel runs them, its steps and findings at the YAML lines, and loaded by the lab after kube-proxy's
 * tables. (The three tracer scenarios node-nftables-drop/-dnat/-mark run it through the kernel as well.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyse, compileDataPlane, nodeRulesParts, traceFlow } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';

const base = readFileSync('test/fixtures/traces/node-nftables-mark/topology.yaml', 'utf8');
const OWN = base.slice(base.indexOf('      table ip marks {'), base.indexOf('pods:'));

/** The two-node lab with node2's own nft text replaced (indented as the block scalar) and kube-proxy's mode. */
function withOwn(nft: string, mode: 'iptables' | 'nftables' = 'iptables'): string {
  const block = nft
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  return base.replace(OWN, `${block}\n`).replace('    mode: iptables\n', `    mode: ${mode}\n`);
}

function trace(text: string, from: string, to: string) {
  const t = buildTopology([{ path: 'own.yaml', text }]).topology;
  const dp = compileDataPlane(t, { files: new Map([['own.yaml', text]]) });
  const { result } = traceFlow(t, { from, to }, dp);
  assert.ok(result);
  return result;
}

/** A DNAT of the Service's cluster IP to web-2 in node1's own table, at `priority` on prerouting. */
const clusterIpDnat = (priority: string, mode: string) =>
  base.replace('    mode: iptables\n', `    mode: ${mode}\n`).replace(
    '    podCIDR: 10.244.1.0/24\n',
    `    podCIDR: 10.244.1.0/24
    nftables: |
      table ip own {
        chain prerouting {
          type nat hook prerouting priority ${priority}; policy accept;
          ip daddr 10.96.0.10 tcp dport 80 dnat to 10.244.2.10:8080
        }
      }
`,
  );

describe("a node's own nftables text in traces", () => {
  for (const mode of ['iptables', 'nftables'] as const) {
    it(`runs before kube-proxy's Service DNAT at a lower priority, after it at a higher one (kube-proxy in ${mode} mode)`, () => {
      const first = trace(clusterIpDnat('dstnat - 10', mode), 'pod/client', 'svc/web:80');
      // The first nat chain that translates a new connection wins; the later ones are skipped.
      assert.deepEqual(
        first.paths.map((p) => [p.probability, p.delivered?.name]),
        [[1, 'default/web-2']],
      );
      const nat = first.paths[0].hops.flatMap((h) => h.steps).find((s) => s.kind === 'nat');
      assert.equal(nat?.kind === 'nat' ? `${nat.table} ${nat.chain}` : '', 'ip own prerouting');
      const after = trace(clusterIpDnat('dstnat + 10', mode), 'pod/client', 'svc/web:80');
      assert.deepEqual(
        after.paths.map((p) => p.delivered?.name).sort(),
        ['default/web-1', 'default/web-2'],
        "kube-proxy's translation first: its load balancing decides",
      );
    });
  }

  it('a masquerade of pod traffic is nat.pod-to-pod at the nft rule, saying it is the node’s nftables', () => {
    const text = withOwn(`table ip snat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "cni0" masquerade
  }
}`);
    const analysis = analyse([{ path: '/t/own.yaml', text }]);
    const d = analysis.diagnostics.find((x) => x.code === 'nat.pod-to-pod');
    assert.ok(d);
    assert.equal(text.slice(d.span.start, d.span.end), 'oifname "cni0" masquerade');
    assert.match(d.message, /by the rule `oifname "cni0" masquerade` in node node2's nftables/);
  });

  it('rules() reports what its rules match on (addresses as prefixes, interface names), at the YAML line', () => {
    const text = withOwn(`table inet host {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "eth0" ip saddr != 10.244.2.0/24 ip daddr 10.244.2.10 tcp dport 8080 drop
    ip6 saddr fd00::/64 accept
  }
}`);
    const t = buildTopology([{ path: 'own.yaml', text }]).topology;
    const dp = compileDataPlane(t, { files: new Map([['own.yaml', text]]) });
    const own = [...(dp.namespaces.get('node:node2')?.filter?.rules() ?? [])].filter((r) => r.table === 'inet host');
    assert.deepEqual(
      own.map((r) => [text.slice(r.span.start, r.span.end), r.prefixes.map((p) => p.text), r.interfaces]),
      [
        [
          'iifname "eth0" ip saddr != 10.244.2.0/24 ip daddr 10.244.2.10 tcp dport 8080 drop',
          ['10.244.2.0/24', '10.244.2.10/32'],
          ['eth0'],
        ],
        ['ip6 saddr fd00::/64 accept', ['fd00::/64'], []],
      ],
    );
  });

  it('the lab loads it after kube-proxy’s tables with nft -f (and in iptables mode alone)', () => {
    const nftMode = buildTopology([{ path: 'a.yaml', text: withOwn(OWN.replace(/^ {6}/gm, ''), 'nftables') }]).topology;
    const parts = nodeRulesParts(nftMode, 'node2');
    assert.ok(parts?.nftables);
    assert.ok(parts.nftables.indexOf('table ip kube-proxy') < parts.nftables.indexOf('table ip marks {'));
    assert.doesNotMatch(parts.iptables, /KUBE-SERVICES/);
    const iptMode = buildTopology([{ path: 'b.yaml', text: base }]).topology;
    const p2 = nodeRulesParts(iptMode, 'node2');
    assert.match(p2?.nftables ?? '', /^table ip marks \{\n/);
    assert.match(p2?.iptables ?? '', /KUBE-SERVICES/);
    assert.equal(nodeRulesParts(iptMode, 'node1')?.nftables, undefined);
  });
});
