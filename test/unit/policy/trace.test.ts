/** NetworkPolicy in the trace: typed policy steps at egress and ingress, drops that name the isolating policies. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildTopology } from '../../../src/core/model/build';
import { compileDataPlane } from '../../../src/core/dataplane';
import { traceFlow, type TraceRequest } from '../../../src/core/trace';
import { formatTraceText } from '../../../src/core/trace/text';
import type { Hop, StepOf } from '../../../src/core/trace/types';
import { predictedDevices } from '../../../src/lab/devices';
import { lab, policy } from './lab';

const FIXTURE = path.resolve(__dirname, '../../fixtures/traces/policy-service-allowed/topology.yaml');
const TEXT = readFileSync(FIXTURE, 'utf8');

function trace(request: TraceRequest, text = TEXT) {
  const built = buildTopology([{ path: 'topology.yaml', text }]);
  const { result, problems } = traceFlow(built.topology, request, compileDataPlane(built.topology));
  assert.ok(result, JSON.stringify(problems));
  return result;
}

const policySteps = (hops: readonly Hop[]): (StepOf<'policy'> & { netns: string })[] =>
  hops.flatMap((h) => h.steps.flatMap((s) => (s.kind === 'policy' ? [{ ...s, netns: h.netns }] : [])));

describe('NetworkPolicy in traces', () => {
  it('judges a Service connection against the backend pod after DNAT, naming the rules that allowed it with their YAML', () => {
    const r = trace({ from: 'pod/shop/api-1', to: 'svc/shop/db:pg', reply: true });
    const [path1] = r.paths;
    assert.equal(path1.disposition, 'delivered');
    const [egress, ingress] = policySteps(path1.hops);
    assert.deepEqual(
      [egress.direction, egress.netns, egress.verdict, egress.pod, egress.policy, egress.ruleIndex],
      ['egress', 'node:node1', 'allowed', 'shop/api-1', 'shop/api', 0],
    );
    assert.deepEqual(egress.policies, ['shop/allow-dns', 'shop/api', 'shop/default-deny']);
    assert.match(TEXT.slice(egress.start, egress.end), /^to: \[\{podSelector: \{matchLabels: \{app: db\}\}\}\]/);
    assert.equal(egress.file, 'topology.yaml');
    // The egress step comes after kube-proxy's DNAT (the bridge's PREROUTING) and first in filter FORWARD, where the
    // frame went up to cni0 and was routed: policies see the backend, not the ClusterIP.
    const steps = path1.hops.flatMap((h) => h.steps.map((st) => ({ hop: `${h.netns} ${h.device} ${h.dir}`, st })));
    const at = steps.findIndex((x) => x.st.kind === 'policy');
    assert.ok(steps.findIndex((x) => x.st.kind === 'nat') < at);
    assert.equal(steps[at].hop, 'node:node1 cni0 in');
    const next = steps[at + 1].st;
    assert.ok(next.kind === 'netfilter' && next.chain === 'FORWARD', JSON.stringify(next));
    assert.match(egress.detail, /10\.244\.2\.12:5432/);
    assert.deepEqual(
      [ingress.direction, ingress.netns, ingress.pod, ingress.policy, ingress.ruleIndex],
      ['ingress', 'node:node2', 'shop/db-0', 'shop/db', 0],
    );
    assert.match(TEXT.slice(ingress.start, ingress.end), /^from: \[\{podSelector: \{matchLabels: \{app: api\}\}\}\]/);
    const [back] = policySteps(path1.reply!.hops);
    assert.deepEqual([back.pod, back.verdict, back.exempt], ['shop/api-1', 'allowed', 'reply']);
  });

  it('drops at the source node when no egress rule allows it, naming the isolating policies', () => {
    const r = trace({ from: 'pod/shop/web-1', to: 'svc/shop/db:pg' });
    const p = r.paths[0];
    assert.deepEqual([p.disposition, p.reason], ['dropped', 'policy-denied']);
    const last = p.hops[p.hops.length - 1];
    assert.equal(last.netns, 'node:node1');
    const drop = last.steps[last.steps.length - 1];
    assert.ok(drop.kind === 'drop');
    assert.deepEqual(
      [drop.reason, drop.direction, drop.policies],
      ['policy-denied', 'egress', ['shop/allow-dns', 'shop/default-deny', 'shop/web']],
    );
    // Reveal: the denied step points at the first isolating policy's name.
    const denied = policySteps(p.hops)[0];
    assert.equal(TEXT.slice(denied.start, denied.end), 'allow-dns');
  });

  it('drops before the destination pod when no ingress rule allows it', () => {
    const p = trace({ from: 'pod/dev/tester', to: 'svc/shop/api:api' }).paths[0];
    const steps = policySteps(p.hops);
    assert.deepEqual(
      steps.map((s) => [s.direction, s.verdict, s.exempt ?? null]),
      [
        ['egress', 'allowed', 'not-isolated'],
        ['ingress', 'denied', null],
      ],
    );
    assert.equal(p.hops[p.hops.length - 1].netns, 'node:node1');
    assert.equal(p.reason, 'policy-denied');
  });

  // Where the drop is: the kernel (the lab's policy chains, first in filter FORWARD; docs/kernel-lab.md) drops a
  // denied packet in the FORWARD hook, so the path ends in the hop FORWARD runs in and no later device is crossed.
  describe('a denied packet ends where filter FORWARD runs', () => {
    const devices = (request: TraceRequest) => {
      const built = buildTopology([{ path: 'topology.yaml', text: TEXT }]);
      const dp = compileDataPlane(built.topology);
      const r = traceFlow(built.topology, request, dp).result!;
      return {
        path: r.paths[0],
        devices: predictedDevices(r.paths[0], dp).map((h) => `${h.netns} ${h.device} ${h.dir}`),
      };
    };

    it("bridged between two pods of one node: on the source pod's bridge port (br_netfilter's FORWARD runs in the bridge's forwarding)", () => {
      const { path: p, devices: d } = devices({ from: 'pod/monitoring/prometheus-0', to: 'pod/shop/api-1:8000' });
      assert.deepEqual([p.disposition, p.reason], ['dropped', 'policy-denied']);
      const last = p.hops[p.hops.length - 1];
      assert.equal(last.netns, 'node:node1');
      assert.match(last.device, /^veth/);
      assert.equal(last.dir, 'in');
      // Nothing of FORWARD or POSTROUTING after the policy step: the policy chain is FORWARD's first rule.
      const denied = last.steps.findIndex((st) => st.kind === 'policy' && st.verdict === 'denied');
      const after = last.steps.slice(denied + 1);
      assert.deepEqual(
        after.map((st) => st.kind),
        ['drop'],
      );
      assert.deepEqual(d, ['pod:monitoring/prometheus-0 eth0 out', `node:node1 ${last.device} in`]);
    });

    it('routed in from another node: on the interface it arrived by, never out of cni0', () => {
      const { path: p, devices: d } = devices({ from: 'pod/dev/tester', to: 'pod/shop/api-1:8000' });
      assert.equal(p.reason, 'policy-denied');
      assert.deepEqual(d.slice(-2), ['node:node2 eth0 out', 'node:node1 eth0 in']);
    });

    it("the node's own packet to its pod (nodeTraffic: policy): in filter OUTPUT, before it leaves by cni0", () => {
      const { path: p, devices: d } = devices({
        from: 'node/node1',
        to: 'pod/shop/api-1:8000',
        policy: { nodeTraffic: 'policy' },
      });
      assert.equal(p.reason, 'policy-denied');
      assert.deepEqual(d, []);
      // No device crossed, so the steps taken in node1 are the path's origin: the denied ingress names its policies.
      assert.equal(p.origin?.netns, 'node:node1');
      const denied = p.origin?.steps.find((st) => st.kind === 'policy');
      assert.ok(denied?.kind === 'policy', 'the policy step is kept');
      assert.deepEqual([denied.direction, denied.verdict, denied.pod], ['ingress', 'denied', 'shop/api-1']);
      assert.equal(p.origin?.steps.at(-1)?.kind, 'drop');
      const text = formatTraceText(
        trace({ from: 'node/node1', to: 'pod/shop/api-1:8000', policy: { nodeTraffic: 'policy' } }),
        { width: 200 },
      );
      assert.match(text, /in node:node1, before any device:/);
      assert.match(
        text,
        /ingress to shop\/api-1 from 10\.244\.1\.1: denied, no ingress rule of shop\/allow-scrape, shop\/api\b/,
      );
      assert.doesNotMatch(text, /#\s+netns\s+device/, 'no empty hop table');
    });

    it("a masquerade on the destination's own node comes after FORWARD: the pod's ingress sees the sender", () => {
      // masqueradeAll: kube-proxy marks every Service connection, and node1 masquerades it in POSTROUTING; the
      // policy chain in FORWARD has already judged the original source (prometheus), which api admits not.
      const text = TEXT.replace(/^cluster:\n/m, 'cluster:\n  kubeProxy: {masqueradeAll: true}\n');
      assert.notEqual(text, TEXT);
      const r = trace({ from: 'pod/monitoring/prometheus-0', to: 'svc/shop/api:api' }, text);
      const marked = r.paths[0].hops.flatMap((h) => h.steps).some((st) => st.detail.includes('KUBE-MARK-MASQ'));
      assert.ok(marked, 'kube-proxy marks the connection for masquerade');
      assert.deepEqual(
        policySteps(r.paths[0].hops).map((st) => [st.direction, st.verdict]),
        [
          ['egress', 'allowed'],
          ['ingress', 'denied'],
        ],
      );
      assert.match(policySteps(r.paths[0].hops)[1].detail, /from 10\.244\.1\.20\b/);
    });
  });

  it("allows the pod's own node, or judges it when the user chooses nodeTraffic: policy", () => {
    const allowed = trace({ from: 'node/node1', to: 'pod/shop/api-1:8000' }).paths[0];
    assert.equal(allowed.disposition, 'delivered');
    assert.equal(policySteps(allowed.hops)[0].exempt, 'own-node');
    const judged = trace({ from: 'node/node1', to: 'pod/shop/api-1:8000', policy: { nodeTraffic: 'policy' } }).paths[0];
    assert.equal(judged.reason, 'policy-denied');
  });

  it('an egress ipBlock holding the ClusterIP never matches: policies see the backend address', () => {
    const text = policy(
      'prod',
      'to-web-service',
      'podSelector: {matchLabels: {app: client}}\npolicyTypes: [Egress]\negress:\n  - to: [{ipBlock: {cidr: 10.96.0.80/32}}]',
    );
    const { topology } = lab(text);
    const r = traceFlow(topology, { from: 'pod/prod/client', to: 'svc/prod/web:http' }, compileDataPlane(topology));
    assert.equal(r.result?.paths[0].reason, 'policy-denied');
  });

  it('takes no policy step when the cluster has no NetworkPolicy (nothing is isolated)', () => {
    const text = TEXT.split('\n---\n')
      .filter((d) => !d.includes('kind: NetworkPolicy'))
      .join('\n---\n');
    const p = trace({ from: 'pod/shop/web-1', to: 'svc/shop/db:pg' }, text).paths[0];
    assert.equal(p.disposition, 'delivered');
    assert.deepEqual(policySteps(p.hops), []);
  });
});
