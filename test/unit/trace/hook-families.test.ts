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
});
