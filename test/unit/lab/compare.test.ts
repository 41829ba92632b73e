/**
 * verify's comparison without a kernel: a trace's prediction against hand-written observations of the lab's client
 * and conntrack, as `netpath verify` would report them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane, traceFlow } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';
import {
  compareFlow,
  formatVerifyText,
  parseConntrack,
  predictedOutcomes,
  spreadTries,
  SPREAD_MISS_BUDGET,
  type ClientTry,
  type ConntrackEntry,
  type VerifyReport,
} from '../../../src/lab/compare';

const topology = buildTopology([
  { path: 'lab.yaml', text: readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8') },
]).topology;
const dp = compileDataPlane(topology);

function predict(from: string, to: string) {
  const { result } = traceFlow(topology, { from, to }, dp);
  assert.ok(result);
  return { result, outcomes: predictedOutcomes(result, dp) };
}

const answered = (pod: string, peer: string, localPort: number): ClientTry => ({
  result: 'answered',
  reply: { pod, container: 'web', port: 8080, peer },
  local: '10.244.1.10',
  localPort,
});

/** What node1's conntrack keeps for a connection from the client to the ClusterIP, DNATed to `backend`. */
const dnat = (sport: number, backend: string): ConntrackEntry => ({
  netns: 'node:node1',
  proto: 'tcp',
  orig: { src: '10.244.1.10', dst: '10.96.0.10', sport, dport: 80 },
  reply: { src: backend, dst: '10.244.1.10', sport: 8080, dport: sport },
});

describe('lab/compare (verify without a kernel)', () => {
  it('agrees when both predicted backends answered with the DNAT the tracer predicts', () => {
    const { result, outcomes } = predict('pod/client', 'svc/web:http');
    const out = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:default/client',
      tries: [answered('default/web-1', '10.244.1.10', 40001), answered('default/web-2', '10.244.1.10', 40002)],
      conntrack: [dnat(40001, '10.244.1.11'), dnat(40002, '10.244.2.10')],
    });
    assert.deepEqual(out.differences, []);
    assert.equal(out.agree, true);
    assert.equal(out.devices, 'off');
    assert.equal(out.observed?.tries, 2);
  });

  it('reports a backend that never answered, a source the tracer did not predict and missing NAT', () => {
    const { result, outcomes } = predict('pod/client', 'svc/web:http');
    const out = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:default/client',
      tries: [answered('default/web-1', '192.168.56.11', 40001)],
      conntrack: [],
    });
    assert.equal(out.agree, false);
    assert.ok(
      out.differences.some((d) => d.startsWith('delivery: default/web-2:8080 (predicted with probability 0.50)')),
    );
    assert.ok(out.differences.some((d) => d.startsWith('source seen by default/web-1:8080: kernel 192.168.56.11')));
    assert.ok(out.differences.some((d) => d.startsWith('NAT on the way to default/web-1:8080: kernel [none]')));
  });

  it('a refused connection where the tracer predicts delivery is a difference', () => {
    const { result, outcomes } = predict('pod/client', 'pod/web-2:8080');
    const out = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:default/client',
      tries: [{ result: 'refused', code: 'ECONNREFUSED', local: '10.244.1.10', localPort: 40003 }],
      conntrack: [],
    });
    assert.equal(out.agree, false);
    assert.deepEqual(out.differences, [
      'delivery: the kernel did not deliver (refused ECONNREFUSED); the tracer predicts default/web-2:8080',
      'delivery: default/web-2:8080 (predicted with probability 1.00) never answered in 1 tries',
    ]);
  });

  it('follows a connection from node to node after a masquerade that picked a new source port (nftables mode: fully-random)', () => {
    // ip-masq-agent-not-covering-pods in kube-proxy's nftables mode: node1 DNATs the NodePort to web-2 and
    // masquerades to its eth0 address with a random port; node2's ip-masq-agent masquerades again. node2's entry
    // carries node1's new port, not the client's: found by following the translation (the kernel tier's one
    // disagreement in nftables mode was this lookup, not the tracer).
    const text = readFileSync('test/fixtures/traces/ip-masq-agent-not-covering-pods/topology.yaml', 'utf8').replace(
      '    mode: iptables\n',
      '    mode: nftables\n',
    );
    const t = buildTopology([{ path: 'nft.yaml', text }]).topology;
    assert.equal(t.cluster.kubeProxy.mode, 'nftables');
    const ndp = compileDataPlane(t);
    const { result } = traceFlow(t, { from: 'external/laptop', to: 'node/node1:30080' }, ndp);
    assert.ok(result);
    const outcomes = predictedOutcomes(result, ndp).filter((o) => o.answeredBy === 'default/web-2:8080');
    const entry = (netns: string, orig: ConntrackEntry['orig'], reply: ConntrackEntry['reply']): ConntrackEntry => ({
      netns,
      proto: 'tcp',
      orig,
      reply,
    });
    const conntrack = [
      entry(
        'node:node1',
        { src: '192.168.56.100', dst: '192.168.56.11', sport: 40010, dport: 30080 },
        { src: '10.244.2.10', dst: '192.168.56.11', sport: 8080, dport: 61234 },
      ),
      entry(
        'node:node2',
        { src: '192.168.56.11', dst: '10.244.2.10', sport: 61234, dport: 8080 },
        { src: '10.244.2.10', dst: '10.244.2.1', sport: 8080, dport: 61234 },
      ),
      // Another connection on node2 with the client's port number: not this one.
      entry(
        'node:node2',
        { src: '192.168.56.77', dst: '10.244.2.10', sport: 61234, dport: 8080 },
        { src: '10.244.2.10', dst: '10.244.2.1', sport: 8080, dport: 5000 },
      ),
    ];
    const out = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'external:laptop',
      tries: [
        {
          result: 'answered',
          reply: { pod: 'default/web-2', container: 'app', port: 8080, peer: '10.244.2.1' },
          local: '192.168.56.100',
          localPort: 40010,
        },
      ],
      conntrack,
    });
    assert.deepEqual(out.observed?.outcomes[0]?.nat, [
      'node:node1 DNAT 10.244.2.10 port 8080',
      'node:node1 SNAT 192.168.56.11',
      'node:node2 SNAT 10.244.2.1',
    ]);
    assert.deepEqual(out.differences, []);
  });

  it('a request delivered whose answer is lost (Calico node without a route for 169.254.1.1) predicts no answer', () => {
    const text = readFileSync('test/fixtures/traces/calico-node-without-default-route/topology.yaml', 'utf8');
    const t = buildTopology([{ path: 'c.yaml', text }]).topology;
    const cdp = compileDataPlane(t);
    const { result } = traceFlow(t, { from: 'node/node1', to: 'pod/client:9090', reply: true }, cdp);
    assert.ok(result);
    assert.equal(result.paths[0].disposition, 'delivered');
    assert.equal(result.paths[0].reply?.reason, 'no-neighbor');
    const outcomes = predictedOutcomes(result, cdp);
    assert.deepEqual(
      outcomes.map((o) => [o.disposition, o.reason, o.answeredBy]),
      [['dropped', 'no-neighbor', null]],
    );
    const flow = (r: string, code?: string) =>
      compareFlow(result, outcomes, {
        proto: 'tcp',
        sourceNetns: 'node:node1',
        tries: [{ result: r, ...(code ? { code } : {}), local: '192.168.56.11', localPort: 40005 }],
        conntrack: [],
      });
    // A neighbour that never answers: EHOSTUNREACH after the ARP retries, or a timeout for a client giving up sooner.
    assert.equal(flow('timeout').agree, true);
    assert.equal(flow('unreachable', 'EHOSTUNREACH').agree, true);
    assert.equal(flow('refused', 'ECONNREFUSED').agree, false);
    assert.equal(flow('answered').agree, false);
  });

  it('an unanswered neighbour leaves no device crossed at the sender (the packet never left)', () => {
    const text = readFileSync('test/fixtures/traces/calico-node-without-default-route/topology.yaml', 'utf8');
    const t = buildTopology([{ path: 'c.yaml', text }]).topology;
    const cdp = compileDataPlane(t);
    const { result } = traceFlow(t, { from: 'pod/client', to: 'pod/web-1:8080' }, cdp);
    assert.ok(result);
    assert.deepEqual(
      result.paths[0].hops.map((h) => `${h.netns} ${h.device} ${h.dir}`),
      ['pod:default/client eth0 out'],
    );
    assert.deepEqual(predictedOutcomes(result, cdp)[0].devices, []);
  });

  it('parses conntrack -L: the original tuple, then the reply tuple', () => {
    const text =
      'tcp      6 118 SYN_SENT src=10.244.1.10 dst=10.96.0.10 sport=40001 dport=80 [UNREPLIED] src=10.244.2.10 dst=10.244.1.10 sport=8080 dport=40001 mark=0 use=1\n' +
      'icmp     1 29 src=10.244.1.10 dst=10.244.2.10 type=8 code=0 id=1 src=10.244.2.10 dst=10.244.1.10 type=0 code=0 id=1 mark=0 use=1\n' +
      'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n';
    assert.deepEqual(parseConntrack(text, 'node:node1'), [dnat(40001, '10.244.2.10')]);
  });

  it('prints one line per flow with its differences and the totals', () => {
    const report: VerifyReport = {
      topology: 'two-node-lab',
      prefix: 'npv-1',
      agree: false,
      flows: [
        {
          from: 'pod/client',
          to: 'pod/web-2:8080',
          proto: 'tcp',
          agree: false,
          predicted: null,
          observed: { tries: 1, sourceAddress: null, outcomes: [] },
          differences: ['delivery: nobody answered'],
          devices: 'off',
          ms: 3,
        },
      ],
      timings: { setupMs: 10, flowsMs: 20, teardownMs: 30 },
    };
    const text = formatVerifyText(report);
    assert.match(text, /^DIFFER {2}pod\/client -> pod\/web-2:8080 \(tcp\): \n {10}- delivery: nobody answered\n/);
    assert.match(
      text,
      /0\/1 flows agree with the tracer \(topology two-node-lab; lab 10 ms, flows 20 ms, teardown 30 ms\)/,
    );
    assert.match(text, /devices crossed not compared\n$/);
  });

  it("prints the kernel's NetworkPolicy verdicts under each flow that reached one", () => {
    const flow = {
      from: 'pod/dev/tester',
      to: 'pod/shop/api-1:8000',
      proto: 'tcp',
      agree: true,
      predicted: null,
      observed: { tries: 1, sourceAddress: null, outcomes: [] },
      differences: [],
      ms: 3,
    };
    const text = formatVerifyText({
      topology: 'policies',
      prefix: 'npv-1',
      agree: true,
      flows: [
        {
          ...flow,
          policy: [
            { netns: 'node:node1', direction: 'ingress', pod: 'shop/api-1', verdict: 'denied', packets: 1 },
            {
              netns: 'node:node2',
              direction: 'egress',
              pod: 'dev/tester',
              verdict: 'allowed',
              policy: 'dev/out',
              ruleIndex: 2,
              packets: 1,
            },
          ],
        },
        { ...flow, to: 'pod/shop/web-1:8080', policy: [] },
      ],
      timings: { setupMs: 1, flowsMs: 1, teardownMs: 1 },
    });
    const lines = text.split('\n');
    assert.equal(
      lines[1],
      '          (NetworkPolicy in the kernel: node:node1 ingress shop/api-1 denied x1; node:node2 egress dev/tester allowed by dev/out egress[2] x1)',
    );
    assert.match(lines[2], /^agree {3}pod\/dev\/tester -> pod\/shop\/web-1:8080/);
  });
});

// The kernel's NetworkPolicy verdicts (the lab's policy chains' counters) against the trace's policy steps.
describe('verify: NetworkPolicy verdicts', () => {
  const policyTopology = buildTopology([
    {
      path: 'topology.yaml',
      text: readFileSync('test/fixtures/traces/policy-ingress-denied/topology.yaml', 'utf8'),
    },
  ]).topology;
  const pdp = compileDataPlane(policyTopology);
  const predictPolicy = (from: string, to: string) => {
    const { result } = traceFlow(policyTopology, { from, to }, pdp);
    assert.ok(result);
    return { result, outcomes: predictedOutcomes(result, pdp, true) };
  };
  const timeout: ClientTry = { result: 'timeout', localPort: 40000 };
  const denied = {
    netns: 'node:node1',
    direction: 'ingress',
    pod: 'shop/api-1',
    verdict: 'denied',
    packets: 1,
  } as const;

  it('predicts the counted verdicts: the pods no policy isolates are left out', () => {
    const { outcomes } = predictPolicy('pod/dev/tester', 'pod/shop/api-1:8000');
    assert.deepEqual(outcomes[0].policy, [
      { netns: 'node:node1', direction: 'ingress', pod: 'shop/api-1', verdict: 'denied' },
    ]);
  });

  it('agrees when the kernel denied at the node, pod and direction the tracer says', () => {
    const { result, outcomes } = predictPolicy('pod/dev/tester', 'pod/shop/api-1:8000');
    const out = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:dev/tester',
      tries: [timeout],
      conntrack: [],
      policy: [denied],
    });
    assert.deepEqual(out.differences, []);
  });

  it('differs when the kernel denied elsewhere, or reached no verdict where the tracer denies', () => {
    const { result, outcomes } = predictPolicy('pod/dev/tester', 'pod/shop/api-1:8000');
    const elsewhere = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:dev/tester',
      tries: [timeout],
      conntrack: [],
      policy: [{ ...denied, netns: 'node:node2', direction: 'egress', pod: 'dev/tester' }],
    });
    assert.deepEqual(elsewhere.differences, [
      "NetworkPolicy: the kernel's node:node2 egress dev/tester denied, which the tracer does not predict",
      'NetworkPolicy of the undelivered tries: the tracer predicts node:node1 ingress shop/api-1 denied, the kernel node:node2 egress dev/tester denied',
    ]);
    const none = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:dev/tester',
      tries: [timeout],
      conntrack: [],
      policy: [],
    });
    assert.deepEqual(none.differences, [
      'NetworkPolicy of the undelivered tries: the tracer predicts node:node1 ingress shop/api-1 denied, the kernel reached no policy verdict',
    ]);
  });

  it('compares the rule that allowed it: the first rule in the policies order', () => {
    const { result, outcomes } = predictPolicy('pod/shop/web-1', 'svc/shop/api:api');
    assert.deepEqual(
      outcomes[0].policy?.map((v) => [v.netns, v.direction, v.pod, v.verdict, v.policy, v.ruleIndex]),
      [
        ['node:node1', 'egress', 'shop/web-1', 'allowed', 'shop/web', 0],
        ['node:node1', 'ingress', 'shop/api-1', 'allowed', 'shop/api', 0],
      ],
    );
    const ok: ClientTry = {
      result: 'answered',
      reply: { pod: 'shop/api-1', container: 'main', port: 8000, peer: '10.244.1.11' },
      local: '10.244.1.11',
      localPort: 40000,
    };
    const wrongRule = compareFlow(result, outcomes, {
      proto: 'tcp',
      sourceNetns: 'pod:shop/web-1',
      tries: [ok],
      conntrack: [],
      policy: [
        { ...outcomes[0].policy![0], packets: 1 },
        { ...outcomes[0].policy![1], policy: 'shop/allow-scrape', packets: 1 },
      ],
    });
    assert.ok(
      wrongRule.differences.some((d) =>
        d.startsWith(
          "NetworkPolicy: the kernel's node:node1 ingress shop/api-1 allowed by shop/allow-scrape ingress[0]",
        ),
      ),
      wrongRule.differences.join('\n'),
    );
  });
});

describe('verify: how many tries a load-balanced flow may take', () => {
  const backend = (answeredBy: string, probability: number) =>
    ({ answeredBy, disposition: 'delivered', probability }) as const;
  const failure = (probability: number) => ({ answeredBy: null, disposition: 'dropped', probability }) as const;
  /** The chance that n independent tries miss one of the outcomes (union bound, as spreadTries). */
  const miss = (ps: readonly number[], n: number) => ps.reduce((s, p) => s + (1 - p) ** n, 0);

  it('two backends at 0.5: 25 tries, the fewest that miss one by chance below the budget (16 did with 3.1e-5)', () => {
    const n = spreadTries([backend('a:80', 0.5), backend('b:80', 0.5)]);
    assert.equal(n, 25);
    assert.ok(miss([0.5, 0.5], n) <= SPREAD_MISS_BUDGET && miss([0.5, 0.5], n - 1) > SPREAD_MISS_BUDGET);
    assert.ok(miss([0.5, 0.5], 16) > 3e-5, 'the old 16 tries');
  });

  it('three backends, and a predicted failure counted as one more outcome', () => {
    const third = 1 / 3;
    assert.equal(spreadTries([backend('a:80', third), backend('b:80', third), backend('c:80', third)]), 43);
    assert.equal(spreadTries([backend('a:80', 0.5), failure(0.25), failure(0.25)]), 25);
  });

  it('two paths to one backend are one outcome: never fewer than the 16 tries the check always had', () => {
    assert.equal(spreadTries([backend('a:80', 0.5), backend('a:80', 0.5)]), 16);
  });

  it('a backend too unlikely for the budget: capped at 256', () => {
    assert.equal(spreadTries([backend('a:80', 0.99), backend('b:80', 0.01)]), 256);
  });
});
