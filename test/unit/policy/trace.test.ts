/** NetworkPolicy in the trace: typed policy steps at egress and ingress, drops that name the isolating policies. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildTopology } from '../../../src/core/model/build';
import { compileDataPlane } from '../../../src/core/dataplane';
import { traceFlow, type TraceRequest } from '../../../src/core/trace';
import type { Hop, StepOf } from '../../../src/core/trace/types';
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
    // The egress step comes after kube-proxy's DNAT in the same hop: policies see the backend, not the ClusterIP.
    const hop2 = path1.hops.find((h) => h.steps.includes(path1.hops[1].steps.find((s) => s.kind === 'policy')!))!;
    assert.ok(hop2.steps.findIndex((s) => s.kind === 'nat') < hop2.steps.findIndex((s) => s.kind === 'policy'));
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
