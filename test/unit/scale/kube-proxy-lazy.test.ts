import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import type { Topology } from '../../../src/core/model/types';
import { buildNodeRules, newRulesMemo, placeRulesSpan } from '../../../src/core/dataplane/node-rules';
import { kubeProxyWork } from '../../../src/core/kubeproxy/generate';
import { lazyParseWork } from '../../../src/core/netfilter/parse';
import { chainsOf, indexedRulesOf, INDEX_MIN_RULES } from '../../../src/core/netfilter/chains';
import { netpathCluster } from '../../../bench/cluster';
import { RULES } from '../../../src/core/rules';
import { indexRanges } from '../../../src/core/rules/ranges';
import { takeWork } from '../../../src/core/work';
import { buildTopology } from '../../../src/core/model/build';
import { parseYamlFile } from '../../../src/core/syntax/yaml';

/**
 * kube-proxy's Service chains (KUBE-SVC-, KUBE-SVL-, KUBE-EXT-, KUBE-FW-, KUBE-SEP-) are measured as they are
 * generated and their text made only when read: a trace makes the text of the chains it enters, the full text all
 * of them, and every offset is the one the full text has. Counted, never timed.
 */
const cluster = (edit: (text: string) => string = (x) => x, pods = 480): ReturnType<typeof analyse> =>
  analyse([{ path: 'c.yaml', text: edit(netpathCluster({ name: 'lazy', nodes: 24, pods, services: 120 })) }]);

/** Pods enough for kube-proxy's large-cluster mode (over 1,000 endpoints: no per-endpoint comments). */
const LARGE = 1200;

/** Chain objects a trace to one Service may make: built-in and top-level chains of each table it meets, its own. */
const CHAINS_MET = 60;

/** Traces `from` -> `to` on a fresh data plane with the work counters reset, and checks every path is delivered. */
function firstTraceDelivered(t: Topology, from: string, to: string): void {
  const dp = compileDataPlane(t);
  resetWork();
  const out = traceFlow(t, { from, to }, dp);
  assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'));
}

const resetWork = (): void => {
  kubeProxyWork.serviceChains = 0;
  kubeProxyWork.serviceWrites = 0;
  kubeProxyWork.servicePortsNamed = 0;
  kubeProxyWork.endpointChainsNamed = 0;
  lazyParseWork.chainObjects = 0;
  lazyParseWork.chainEntries = 0;
};

describe("kube-proxy's Service chains are written out only when read", () => {
  it('a pod-to-pod trace makes the text of no Service chain', () => {
    const a = cluster();
    const pods = a.topology.pods;
    firstTraceDelivered(a.topology, `pod/${pods[0].id}`, `pod/${pods[pods.length - 1].id}:http`);
    assert.equal(kubeProxyWork.serviceChains, 0);
    assert.equal(kubeProxyWork.serviceWrites, 0);
  });

  it("a trace to one Service makes that Service's chains only", () => {
    const a = cluster();
    firstTraceDelivered(a.topology, `pod/${a.topology.pods[0].id}`, 'svc/svc1:http');
    const endpoints = a.topology.services.find((s) => s.name === 'svc1')?.endpoints.length ?? 0;
    assert.ok(endpoints > 0);
    // Its one port written again; its KUBE-SVC- chain and a KUBE-SEP- chain per endpoint at most.
    assert.equal(kubeProxyWork.serviceWrites, 1);
    assert.ok(kubeProxyWork.serviceChains >= 2 && kubeProxyWork.serviceChains <= endpoints + 1);
    // A chain object only for a chain looked up: the built-in ones and those the packet met, not the cluster's 600
    // Service chains.
    assert.ok(lazyParseWork.chainObjects > 0, 'chains were looked up');
    assert.ok(lazyParseWork.chainObjects <= CHAINS_MET, `${lazyParseWork.chainObjects} chain objects made`);
  });

  it("a Service's chain of endpoint picks is parsed whole when read, KUBE-SERVICES indexed first", () => {
    // 30 Services of 24 endpoints: each KUBE-SVC- chain has a line per endpoint (and the masquerade line), long enough
    // for an index, but every packet that enters it reads them all.
    const a = analyse([{ path: 'c.yaml', text: netpathCluster({ name: 'whole', nodes: 4, pods: 720, services: 30 }) }]);
    const t = a.topology;
    const rules = buildNodeRules(t, t.nodes[0], {}, newRulesMemo());
    const nat = rules.ruleset.tables.nat;
    assert.ok(nat);
    const chains = chainsOf(nat);
    const services = chains.get('KUBE-SERVICES');
    assert.ok(services && indexedRulesOf(services), 'KUBE-SERVICES is indexed before it is parsed');
    const svc = nat.chains.filter((c) => c.name.startsWith('KUBE-SVC-'));
    assert.equal(svc.length, 30);
    for (const c of svc) {
      assert.equal(indexedRulesOf(c), undefined, c.name);
      assert.ok(c.rules.length >= INDEX_MIN_RULES, `${c.name}: ${c.rules.length} rules`);
    }
    // Traced all the same: every endpoint's path is delivered.
    const out = traceFlow(t, { from: `pod/${t.pods[0].id}`, to: 'svc/svc1:http' }, compileDataPlane(t));
    assert.equal(out.result?.paths.length, 24);
    assert.ok(out.result?.paths.every((p) => p.disposition === 'delivered'));
  });

  it('a first trace records the declarations of the chains it looks up, not of every Service chain', () => {
    const a = cluster();
    firstTraceDelivered(a.topology, `pod/${a.topology.pods[0].id}`, 'svc/svc1:http');
    // The cluster's nat table declares a KUBE-SVC- chain per Service port and a KUBE-SEP- chain per endpoint (over
    // 600); the scan takes kube-proxy's declarations at once and records a chain when it is looked up.
    assert.ok(lazyParseWork.chainEntries > 0, 'chains were looked up');
    assert.ok(lazyParseWork.chainEntries <= CHAINS_MET, `${lazyParseWork.chainEntries} chain entries recorded`);
  });

  const variants: [string, (text: string) => string, number?][] = [
    ['ClusterIP and NodePort Services with endpoints', (x) => x],
    ['ClusterIP and NodePort Services, large-cluster mode', (x) => x, LARGE],
    ['Services without endpoints', (x) => x.replace('    selector: {app: app1}', '    selector: {app: nothing}')],
    [
      'externalTrafficPolicy Local',
      (x) => x.replaceAll('    type: NodePort\n', '    type: NodePort\n    externalTrafficPolicy: Local\n'),
    ],
    [
      'ClientIP session affinity',
      (x) => x.replaceAll('    selector: {app: app', '    sessionAffinity: ClientIP\n    selector: {app: app'),
    ],
    [
      'LoadBalancer Services with source ranges',
      (x) =>
        x.replaceAll(
          '    type: NodePort\n',
          '    type: LoadBalancer\n    loadBalancerIPs: [192.0.2.10]\n    loadBalancerSourceRanges: [172.16.0.0/12]\n',
        ),
    ],
    [
      'ClientIP session affinity, large-cluster mode',
      (x) => x.replaceAll('    selector: {app: app', '    sessionAffinity: ClientIP\n    selector: {app: app'),
      LARGE,
    ],
    [
      'externalTrafficPolicy Local, large-cluster mode',
      (x) => x.replaceAll('    type: NodePort\n', '    type: NodePort\n    externalTrafficPolicy: Local\n'),
      LARGE,
    ],
  ];
  for (const [name, edit, pods] of variants) {
    it(`every rule's offset and text are the full text's (${name})`, () => {
      const a = cluster(edit, pods);
      assert.deepEqual(
        a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message),
        [],
      );
      const t = a.topology;
      const memo = newRulesMemo();
      for (const [i, node] of [t.nodes[0], t.nodes[t.nodes.length - 1]].entries()) {
        resetWork();
        const rules = buildNodeRules(t, node, {}, memo);
        // Parse and place every chain first (reading the rules makes their text), then compare with the full text.
        const placed: { text: string; start: number; end: number }[] = [];
        for (const table of Object.values(rules.ruleset.tables))
          for (const chain of table?.chains ?? [])
            for (const rule of chain.rules) {
              const span = placeRulesSpan(rules, rule.span);
              placed.push({ text: rule.text, start: span.start, end: span.end });
            }
        // (The second node shares the first's parsed chains when nothing sets it apart.)
        if (i === 0) assert.ok(kubeProxyWork.serviceChains > 0, 'Service chains were read');
        const text = rules.text;
        assert.ok(placed.length > t.services.length);
        // Large-cluster mode writes no endpoint's comment (`ns/svc:port -> ip:port`).
        assert.equal(text.includes(' -> '), pods !== LARGE);
        // Every chain's declaration is where the full text has it.
        for (const table of Object.values(rules.ruleset.tables))
          for (const chain of table?.chains ?? []) {
            if (chain.builtin) continue;
            const span = placeRulesSpan(rules, chain.span);
            assert.equal(text.slice(span.start, span.end), `:${chain.name} - [0:0]`);
          }
        for (const p of placed) assert.equal(text.slice(p.start, p.end), p.text);
        // The text made from the measured runs is the text of a generation that writes every line out (of a model of
        // its own: the data planes of one model share the generator's output).
        const other = cluster(edit, pods).topology;
        const otherNode = other.nodes.find((n) => n.name === node.name);
        assert.ok(otherNode);
        const again = buildNodeRules(other, otherNode, {}, newRulesMemo()).text;
        assert.equal(again, text);
      }
    });
  }
});

describe("kube-proxy's Service chains are named only for a reader of them", () => {
  // The nat table's layout is known from counts of each kind of Service chain: a reader that meets none of them
  // (a packet to a pod crosses KUBE-SERVICES and KUBE-POSTROUTING only) has no KUBE-SEP- chain named, no port written
  // with its chains' names.
  it('the nat.pod-to-pod rule names no Service chain', () => {
    const a = cluster();
    const t = a.topology;
    const dp = compileDataPlane(t);
    const rule = RULES.find((r) => r.code === 'nat.pod-to-pod');
    assert.ok(rule);
    resetWork();
    const found = rule.run({ topology: t, ranges: indexRanges(t), dataplane: dp, texts: new Map() });
    assert.deepEqual(found, []);
    assert.ok(lazyParseWork.chainObjects > 0, "the probes met the nodes' rules");
    assert.equal(kubeProxyWork.servicePortsNamed, 0);
  });

  it('the nat.pod-to-pod rule measures a few lines per Service port, not one per endpoint', () => {
    for (const pods of [480, LARGE]) {
      // A model no rule has read (an analysis would have generated its rules already).
      const text = netpathCluster({ name: 'lazy', nodes: 24, pods, services: 120 });
      const t = buildTopology([{ path: 'c.yaml', text }], [parseYamlFile('c.yaml', text)]).topology;
      const dp = compileDataPlane(t);
      const rule = RULES.find((r) => r.code === 'nat.pod-to-pod');
      assert.ok(rule);
      takeWork();
      rule.run({ topology: t, ranges: indexRanges(t), dataplane: dp, texts: new Map() });
      const measured = takeWork().serviceLinesMeasured;
      const ports = t.services.reduce((n, s) => n + s.ports.length, 0);
      const endpoints = t.services.reduce((n, s) => n + s.endpoints.length, 0);
      // Each port's masquerade line and a NodePort's external chain; its endpoints' lines are summed from lengths.
      assert.ok(measured > 0 && measured <= 3 * ports, `${measured} lines measured for ${ports} ports`);
      assert.ok(endpoints >= pods, `${endpoints} endpoints`);
    }
  });

  it('a first trace from pod to pod names no Service chain', () => {
    const a = cluster();
    const pods = a.topology.pods;
    firstTraceDelivered(a.topology, `pod/${pods[1].id}`, `pod/${pods[pods.length - 2].id}:http`);
    assert.equal(kubeProxyWork.servicePortsNamed, 0);
  });

  it("a first trace to a Service writes that Service's port alone with its chains' names", () => {
    const a = cluster();
    firstTraceDelivered(a.topology, `pod/${a.topology.pods[0].id}`, 'svc/svc1:http');
    // Its chains are placed among the others by kind (the endpoint chains named, not every port written).
    assert.equal(kubeProxyWork.servicePortsNamed, 1);
  });

  it('a first trace to a Service names the endpoint chains of that Service alone', () => {
    const a = cluster();
    firstTraceDelivered(a.topology, `pod/${a.topology.pods[0].id}`, 'svc/svc1:http');
    const endpoints = a.topology.services.find((s) => s.name === 'svc1')?.endpoints.length ?? 0;
    assert.ok(endpoints > 0 && a.topology.pods.length > 2 * endpoints);
    // Where its endpoint chains fall among the cluster's is found from every endpoint's hash, not from every name.
    assert.equal(kubeProxyWork.endpointChainsNamed, endpoints);
  });

  it('endpoint chains looked up by name, in any order, are where the full text declares and writes them', () => {
    const t = cluster().topology;
    // The full text from a model of its own: the same model's generator output, once written whole, is what the
    // lookups below would read (the data planes of one model share it).
    const other = cluster().topology;
    const text = buildNodeRules(other, other.nodes[0], {}, newRulesMemo()).text;
    const names = [...new Set(text.match(/KUBE-SEP-[A-Z2-7]{16}/g))];
    assert.ok(names.length > 400);
    // Looked up before anything reads the table's list of chains (which would lay the table out whole).
    const rules = buildNodeRules(t, t.nodes[0], {}, newRulesMemo());
    const nat = rules.ruleset.tables.nat;
    assert.ok(nat);
    const byName = chainsOf(nat);
    for (const name of [...names].reverse().concat('KUBE-SEP-AAAAAAAAAAAAAAAA', 'KUBE-SEP-7777777777777777')) {
      const chain = byName.get(name);
      if (!names.includes(name)) {
        assert.equal(chain, undefined);
        continue;
      }
      assert.ok(chain, name);
      const decl = placeRulesSpan(rules, chain.span);
      assert.equal(text.slice(decl.start, decl.end), `:${name} - [0:0]`);
      assert.equal(chain.rules.length, 2);
      for (const rule of chain.rules) {
        const span = placeRulesSpan(rules, rule.span);
        assert.equal(text.slice(span.start, span.end), rule.text);
      }
    }
  });

  it("the whole text names every port's chains: once to order them, once for their text", () => {
    const a = cluster();
    const t = a.topology;
    resetWork();
    const text = buildNodeRules(t, t.nodes[0], {}, newRulesMemo()).text;
    const ports = t.services.reduce((n, s) => n + s.ports.length, 0);
    assert.ok(text.includes(':KUBE-SEP-'));
    assert.equal(kubeProxyWork.servicePortsNamed, 2 * ports);
  });
});
