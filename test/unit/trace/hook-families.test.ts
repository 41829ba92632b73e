/**
 * Chains of the hooks that are not the IP stack's, labelled with their real hook wherever a person reads the trace:
 * a netdev ingress chain runs on the device the packet arrives on before conntrack and every PREROUTING chain, so its
 * drop is `netdev INGRESS` (in the step, the drop, the CLI's chain walk and its hop text), never PREROUTING. A bridge
 * family chain runs on frames a bridge forwards (pod to pod on one node), around br_netfilter's IP hooks by priority.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileDataPlane } from '../../../src/core/dataplane';
import { buildTopology } from '../../../src/core/model/build';
import { formatTraceText, summarizeStep, traceFlow, type TraceResult } from '../../../src/core/trace';
import { chainWalk } from '../../../src/core/trace/text';

function traceOf(dir: string, from: string, to: string, text?: string): TraceResult {
  const yaml = text ?? readFileSync(path.join('test/fixtures/traces', dir, 'topology.yaml'), 'utf8');
  const built = buildTopology([{ path: 'topology.yaml', text: yaml }]);
  const dp = compileDataPlane(built.topology, { files: new Map([['topology.yaml', yaml]]) });
  const { result } = traceFlow(built.topology, { from, to }, dp);
  assert.ok(result);
  return result;
}

describe('trace: hooks of the netdev and bridge families', () => {
  it('a netdev ingress drop is labelled netdev INGRESS in the step, the drop, the chain walk and the CLI text', () => {
    const r = traceOf('node-nftables-netdev-ingress', 'external/laptop', 'node/node2:30080');
    const path0 = r.paths.find((p) => p.disposition === 'dropped');
    assert.ok(path0);
    const hop = path0.hops.find((h) => h.steps.some((s) => s.kind === 'drop'));
    assert.ok(hop);
    const nf = hop.steps.filter((s) => s.kind === 'netfilter');
    assert.deepEqual(
      nf.map((s) => [s.hook, s.family, s.table, s.chain, s.verdict]),
      [['INGRESS', 'netdev', 'netdev edge', 'eth0-in', 'DROP']],
    );
    const drop = hop.steps.find((s) => s.kind === 'drop');
    assert.ok(drop?.kind === 'drop');
    assert.equal(drop.hook, 'INGRESS');
    assert.equal(drop.family, 'netdev');
    assert.match(drop.detail, /^dropped at netdev INGRESS by netdev edge eth0-in: /);
    assert.match(summarizeStep(drop), / at netdev INGRESS by netdev edge eth0-in/);
    assert.deepEqual(chainWalk(hop), ['netdev INGRESS netdev edge: eth0-in: DROP']);
    const text = formatTraceText(r, { width: 200, verbose: true });
    assert.match(text, /netdev INGRESS netdev edge: eth0-in: DROP/);
    assert.doesNotMatch(text, /PREROUTING netdev/);
    assert.doesNotMatch(JSON.stringify(r), /"hook":"PREROUTING","table":"netdev/);
  });

  it('a bridge-family forward chain drops a frame bridged pod to pod, labelled bridge FORWARD, before the IP FORWARD', () => {
    const r = traceOf('node-nftables-bridge-forward', 'pod/client', 'pod/web-1:http');
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.reason]),
      [['dropped', 'netfilter-drop']],
    );
    const hop = r.paths[0].hops.find((h) => h.steps.some((s) => s.kind === 'drop'));
    assert.ok(hop);
    const nf = hop.steps.filter((s) => s.kind === 'netfilter');
    // br_netfilter's PREROUTING ran (kube-proxy's nat chain), then the bridge's forward chain at priority filter (-200)
    // dropped the frame before any IP FORWARD chain saw it.
    assert.deepEqual(
      nf.map((s) => [s.hook, s.family ?? 'ip', s.table, s.verdict]),
      [
        ['PREROUTING', 'ip', 'nat', 'jump'],
        ['PREROUTING', 'ip', 'nat', 'ACCEPT'],
        ['FORWARD', 'bridge', 'bridge pods', 'DROP'],
      ],
    );
    const drop = hop.steps.find((s) => s.kind === 'drop');
    assert.ok(drop?.kind === 'drop');
    assert.deepEqual([drop.hook, drop.family, drop.chain], ['FORWARD', 'bridge', 'forward']);
    assert.match(drop.detail, /^dropped at bridge FORWARD by bridge pods forward: ip saddr 10\.244\.1\.10 /);
    assert.ok(chainWalk(hop).includes('bridge FORWARD bridge pods: forward: DROP'), chainWalk(hop).join('\n'));
    // Another pod's frames pass the chain's policy: delivered, with the bridge chain's policy step on the way.
    const other = traceOf('node-nftables-bridge-forward', 'pod/web-1', 'pod/client:9090');
    assert.deepEqual(
      other.paths.map((p) => p.disposition),
      ['delivered'],
    );
    const steps = other.paths[0].hops.flatMap((h) => h.steps);
    assert.deepEqual(
      steps.flatMap((s) =>
        s.kind === 'netfilter' && s.family === 'bridge' ? [[s.hook, s.chain, s.verdict, s.policy ?? false]] : [],
      ),
      [['FORWARD', 'forward', 'ACCEPT', true]],
    );
  });

  describe('the kernel order of the hooks around NetworkPolicy and a bridge', () => {
    const base = readFileSync(
      path.join('test/fixtures/traces', 'node-nftables-bridge-forward', 'topology.yaml'),
      'utf8',
    );
    /** The bridge-family scenario with its forward chain at `priority` and `rule`, and web's ingress denied to all. */
    const withPolicy = (priority: string, rule: string): string =>
      `${base
        .replace(
          'type filter hook forward priority filter; policy accept;',
          `type filter hook forward priority ${priority}; policy accept;`,
        )
        .replace('ip saddr 10.244.1.10 ip daddr 10.244.1.11 tcp dport 8080 drop', rule)}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-deny, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
`;
    const kinds = (r: TraceResult) =>
      r.paths[0].hops
        .flatMap((h) => h.steps)
        .flatMap((s) =>
          s.kind === 'netfilter' && s.family === 'bridge'
            ? [`bridge ${s.hook} ${s.verdict}`]
            : s.kind === 'netfilter' && s.hook === 'FORWARD'
              ? [`${s.table} FORWARD`]
              : s.kind === 'policy'
                ? [`policy ${s.direction} ${s.verdict}`]
                : [],
        );

    it('a bridge-family forward chain below priority -1 runs before br_netfilter’s IP FORWARD, so before the policy: its drop wins', () => {
      const r = traceOf(
        '',
        'pod/client',
        'pod/web-1:http',
        withPolicy('filter', 'ip saddr 10.244.1.10 ip daddr 10.244.1.11 tcp dport 8080 drop'),
      );
      assert.deepEqual(
        r.paths.map((p) => [p.disposition, p.reason]),
        [['dropped', 'netfilter-drop']],
      );
      assert.deepEqual(kinds(r), ['bridge FORWARD DROP']);
    });

    it('... and when it accepts, the policy is judged after it, then the filter table’s FORWARD rules', () => {
      const r = traceOf(
        '',
        'pod/client',
        'pod/web-1:http',
        withPolicy('filter', 'ip saddr 10.244.1.10 counter accept'),
      );
      assert.deepEqual(
        r.paths.map((p) => [p.disposition, p.reason]),
        [['dropped', 'policy-denied']],
      );
      assert.deepEqual(kinds(r), ['bridge FORWARD ACCEPT', 'policy egress allowed', 'policy ingress denied']);
    });

    it('a bridge-family forward chain at priority 0 runs after br_netfilter’s IP FORWARD: the policy denies first', () => {
      const r = traceOf(
        '',
        'pod/client',
        'pod/web-1:http',
        withPolicy('0', 'ip saddr 10.244.1.10 ip daddr 10.244.1.11 tcp dport 8080 drop'),
      );
      assert.deepEqual(
        r.paths.map((p) => [p.disposition, p.reason]),
        [['dropped', 'policy-denied']],
      );
      assert.deepEqual(kinds(r), ['policy egress allowed', 'policy ingress denied']);
    });

    it('with the policy allowing, the filter table’s FORWARD rules come after the verdict and the priority-0 bridge chain after them', () => {
      const allow = withPolicy('0', 'ip saddr 10.244.1.10 ip daddr 10.244.1.11 tcp dport 8080 drop').replace(
        '  policyTypes: [Ingress]\n',
        '  policyTypes: [Ingress]\n  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]\n',
      );
      const r = traceOf('', 'pod/client', 'pod/web-1:http', allow);
      assert.deepEqual(
        r.paths.map((p) => [p.disposition, p.reason]),
        [['dropped', 'netfilter-drop']],
      );
      const k = kinds(r);
      assert.deepEqual(k.slice(0, 2), ['policy egress allowed', 'policy ingress allowed'], k.join(', '));
      assert.equal(k.at(-1), 'bridge FORWARD DROP', k.join(', '));
      assert.ok(k.slice(2, -1).length > 0 && k.slice(2, -1).every((x) => x === 'filter FORWARD'), k.join(', '));
    });

    it('the node’s own connection to its pod: nat OUTPUT (DNAT), then the policy, then the filter OUTPUT rules', () => {
      const r = traceOf('policy-node-traffic-judged', 'node/node1', 'pod/shop/web-1:8080');
      const hop = r.paths[0].hops.find((h) => h.steps.some((s) => s.kind === 'policy'));
      assert.ok(hop);
      const order = hop.steps.flatMap((s) =>
        s.kind === 'netfilter' ? [`${s.table} ${s.hook}`] : s.kind === 'policy' ? ['policy'] : [],
      );
      const policy = order.indexOf('policy');
      assert.ok(policy > 0, order.join(', '));
      assert.ok(
        order.slice(0, policy).every((x) => x === 'nat OUTPUT'),
        order.join(', '),
      );
      assert.ok(
        order.slice(policy + 1).some((x) => x === 'filter OUTPUT'),
        order.join(', '),
      );
      assert.ok(!order.slice(0, policy).includes('filter OUTPUT'), order.join(', '));
    });

    it('a denial in OUTPUT: the filter OUTPUT rules after the policy never run', () => {
      const r = traceOf('policy-node-traffic-denied', 'node/node1', 'pod/shop/web-1:9090');
      const steps = r.paths[0].hops.flatMap((h) => h.steps);
      assert.equal(r.paths[0].reason, 'policy-denied');
      assert.ok(!steps.some((s) => s.kind === 'netfilter' && s.table === 'filter' && s.hook === 'OUTPUT'));
    });
  });

  it('the bridge device’s netdev ingress runs when the bridge passes a frame up to the node, after the bridge’s hooks', () => {
    const base = readFileSync(
      path.join('test/fixtures/traces', 'node-nftables-bridge-forward', 'topology.yaml'),
      'utf8',
    );
    const yaml = base.replace(
      / {4}nftables: \|\n( {6}.*\n)+/,
      [
        '    nftables: |',
        '      table netdev edge {',
        '        chain cni0-in {',
        '          type filter hook ingress device "cni0" priority filter; policy accept;',
        '          ip saddr 10.244.1.10 drop',
        '        }',
        '      }',
        '      table bridge pods {',
        '        chain input {',
        '          type filter hook input priority filter; policy accept;',
        '          ip saddr 10.244.1.10 counter accept',
        '        }',
        '      }',
        '',
      ].join('\n'),
    );
    // client to node1's own address (the kubelet's port): the frame is for cni0's MAC, so the bridge passes it up.
    const r = traceOf('', 'pod/client', 'node/node1:10250', yaml);
    assert.deepEqual(
      r.paths.map((p) => [p.disposition, p.reason]),
      [['dropped', 'netfilter-drop']],
    );
    const hops = r.paths[0].hops.filter((h) => h.netns === 'node:node1');
    const order = hops.flatMap((h) =>
      h.steps.flatMap((s) => (s.kind === 'netfilter' ? [`${h.device} ${s.family ?? 'ip'} ${s.hook}`] : [])),
    );
    const ingress = order.findIndex((x) => x.includes('netdev INGRESS'));
    const bridgeInput = order.findIndex((x) => x.includes('bridge INPUT'));
    const pre = order.findIndex((x) => x.includes('ip PREROUTING'));
    assert.ok(pre >= 0 && bridgeInput > pre && ingress > bridgeInput, order.join(' | '));
    assert.equal(order[ingress].split(' ')[0], 'cni0', 'the ingress runs in the hop where cni0 receives the frame');
  });
});
