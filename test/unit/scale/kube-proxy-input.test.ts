import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import { buildTopology } from '../../../src/core/model/build';
import { chainNameWork } from '../../../src/core/kubeproxy/names';
import { RULES } from '../../../src/core/rules';
import { indexRanges } from '../../../src/core/rules/ranges';
import type { Topology } from '../../../src/core/model/types';
import { buildNodeRules, newRulesMemo, placeRulesSpan } from '../../../src/core/dataplane/node-rules';
import { kubeProxyInput } from '../../../src/core/dataplane/kube-proxy';
import { generateKubeProxyRules, kubeProxyWork } from '../../../src/core/kubeproxy/generate';
import { netpathCluster } from '../../../bench/cluster';

/**
 * What the data plane reads of the model's Services for kube-proxy's generator, so the generator does not read it
 * again: each Service's endpoints are known to be distinct addresses from the model's own pass over them (the
 * generator then hashes none of them), and a Service whose endpoints share an address is not said to be. Then what
 * a lint's generation no longer makes: the names of the Service ports' own chains (stand-ins until read). Counted,
 * never timed.
 */
const LARGE = 1200;
const text = (): string => netpathCluster({ name: 'input', nodes: 24, pods: LARGE, services: 120 });

/** The same cluster with the second endpoint of svc0 at the first one's address (two pods of one IP: odd input). */
function sharedAddress(): string {
  const yaml = text();
  const svc0 = analyse([{ path: 'c.yaml', text: yaml }]).topology.services.find((s) => s.name === 'svc0');
  const [first, second] = svc0?.endpoints ?? [];
  assert.ok(first && second);
  assert.ok(yaml.includes(`    ip: ${second.ip}\n`));
  return yaml.replace(`    ip: ${second.ip}\n`, `    ip: ${first.ip}\n`);
}

/** Every kube-proxy rule's place, as the first node's rules lay it out, holds its text in the full text. */
function rulesInPlace(t: Topology): void {
  const rules = buildNodeRules(t, t.nodes[0], {}, newRulesMemo());
  const placed: { text: string; start: number; end: number }[] = [];
  for (const table of Object.values(rules.ruleset.tables))
    for (const chain of table?.chains ?? [])
      for (const rule of chain.rules) {
        const span = placeRulesSpan(rules, rule.span);
        placed.push({ text: rule.text, start: span.start, end: span.end });
      }
  const full = rules.text;
  assert.ok(placed.length > t.services.length);
  for (const p of placed) assert.equal(full.slice(p.start, p.end), p.text);
}

describe("the data plane's kube-proxy input says what the model's pass over the endpoints found", () => {
  it('a lint hashes no endpoint address to find two alike (every Service is said to have distinct ones)', () => {
    kubeProxyWork.endpointAddressesHashed = 0;
    kubeProxyWork.servicePortsWritten = 0;
    const a = analyse([{ path: 'c.yaml', text: text() }]);
    assert.ok(kubeProxyWork.servicePortsWritten > 0, "the lint generated kube-proxy's rules");
    assert.equal(kubeProxyWork.endpointAddressesHashed, 0);
    const input = kubeProxyInput(a.topology, a.topology.nodes[0], 4);
    assert.ok(input.services.every((s) => s.endpointsDistinct === true && s.endpointsFamily === 4));
  });

  it('a Service with two endpoints of one address is not said to be distinct, and its rules stay in place', () => {
    const t = analyse([{ path: 'c.yaml', text: sharedAddress() }]).topology;
    const services = kubeProxyInput(t, t.nodes[0], 4).services;
    assert.equal(services.find((s) => s.name === 'svc0')?.endpointsDistinct, undefined);
    assert.equal(services.find((s) => s.name === 'svc1')?.endpointsDistinct, true);
    rulesInPlace(t);
  });

  it('endpoints out of address order are read as distinct by their values, with the rules in place', () => {
    // The last pod's address swapped with the first's: svc0's endpoints then come out of order.
    const yaml = text();
    const t0 = analyse([{ path: 'c.yaml', text: yaml }]).topology;
    const [first] = t0.services[0].endpoints;
    const last = t0.services[0].endpoints[t0.services[0].endpoints.length - 1];
    const swapped = yaml
      .replace(`    ip: ${first.ip}\n`, '    ip: SWAP\n')
      .replace(`    ip: ${last.ip}\n`, `    ip: ${first.ip}\n`)
      .replace('    ip: SWAP\n', `    ip: ${last.ip}\n`);
    const t = analyse([{ path: 'c.yaml', text: swapped }]).topology;
    assert.equal(t.services[0].endpoints[0].ip, last.ip);
    assert.equal(kubeProxyInput(t, t.nodes[0], 4).services[0].endpointsDistinct, true);
    rulesInPlace(t);
  });

  it('the text is the one the generator writes when it reads the addresses itself', () => {
    for (const yaml of [text(), sharedAddress()]) {
      const t = analyse([{ path: 'c.yaml', text: yaml }]).topology;
      const input = kubeProxyInput(t, t.nodes[0], 4);
      const unread = {
        ...input,
        services: input.services.map((s) => ({ ...s, endpointsFamily: undefined, endpointsDistinct: undefined })),
      };
      kubeProxyWork.endpointAddressesHashed = 0;
      assert.equal(generateKubeProxyRules(input), generateKubeProxyRules(unread));
      assert.ok(kubeProxyWork.endpointAddressesHashed > 0, 'the generator read the addresses of the unread input');
    }
  });
});

describe("a skim writes stand-ins for its Service ports' chain names", () => {
  /** A model no rule has read (an analysis would have generated its rules already). */
  const fresh = (): Topology => buildTopology([{ path: 'c.yaml', text: text() }]).topology;

  it('the nat.pod-to-pod rule names no Service chain (not a SHA-256 of 120 KUBE-SVC- names)', () => {
    const t = fresh();
    const dp = compileDataPlane(t);
    const rule = RULES.find((r) => r.code === 'nat.pod-to-pod');
    assert.ok(rule);
    chainNameWork.serviceChainNames = 0;
    kubeProxyWork.servicePortsWritten = 0;
    assert.deepEqual(rule.run({ topology: t, ranges: indexRanges(t), dataplane: dp, texts: new Map() }), []);
    assert.ok(kubeProxyWork.servicePortsWritten >= t.services.length, "the probes generated kube-proxy's rules");
    assert.equal(chainNameWork.serviceChainNames, 0);
  });

  it('a trace into a Service names each Service chain once, and is delivered through the real names', () => {
    const t = fresh();
    const dp = compileDataPlane(t);
    chainNameWork.serviceChainNames = 0;
    const out = traceFlow(t, { from: `pod/${t.pods[0].id}`, to: 'svc/svc1:http' }, dp);
    assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'));
    const nodePorts = t.services.filter((s) => s.type === 'NodePort').length;
    // KUBE-SVC- of every port (their place among each other), KUBE-EXT- of the NodePorts at most, and the chains of
    // the one port written again for its chains' text.
    const named = chainNameWork.serviceChainNames;
    assert.ok(named >= t.services.length && named <= t.services.length + nodePorts + 2, `${named} chains named`);
    assert.ok(out.result.paths.some((p) => JSON.stringify(p).includes('KUBE-SVC-')));
    assert.ok(!JSON.stringify(out.result.paths).match(/KUBE-(?:SVC|EXT)-[01]{16}/), 'no stand-in in a trace');
  });
});
