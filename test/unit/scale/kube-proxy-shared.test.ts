import assert from 'node:assert/strict';
import { analyse, compileDataPlane, traceFlow } from '../../../src/core';
import type { Topology } from '../../../src/core/model/types';
import {
  generateKubeProxyTables,
  kubeProxyWork,
  newGenerateMemo,
  type GeneratedTable,
} from '../../../src/core/kubeproxy/generate';
import type { KubeProxyInput } from '../../../src/core/kubeproxy';
import { kubeProxyInput } from '../../../src/core/dataplane/kube-proxy';
import { netpathCluster } from '../../../bench/cluster';

/**
 * kube-proxy's lines are generated once per model: the data planes compiled for it (the rules' probes, then a
 * trace's: `netpath trace` and the editor analyse first) share the generator's output, so a trace after the analysis
 * writes the Service ports it enters and not every port of the cluster again. Counted, never timed.
 */
const model = (services: number): Topology =>
  analyse([{ path: 'c.yaml', text: netpathCluster({ name: 'shared', nodes: 12, pods: 4 * services, services }) }])
    .topology;

/** The Service ports a pod-to-Service trace writes on a data plane of its own, after one trace on another. */
function portsWrittenBySecondDataPlane(t: Topology): number {
  // As the nat.pod-to-pod rule's probes: a pod-to-pod trace meets KUBE-SERVICES on the nodes it crosses.
  const pods = t.pods;
  const first = traceFlow(
    t,
    { from: `pod/${pods[0].id}`, to: `pod/${pods[pods.length - 1].id}:http` },
    compileDataPlane(t),
  );
  assert.ok(first.result?.paths.every((p) => p.disposition === 'delivered'));
  const dp = compileDataPlane(t);
  kubeProxyWork.servicePortsWritten = 0;
  const out = traceFlow(t, { from: `pod/${pods[0].id}`, to: 'svc/svc1:http' }, dp);
  assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'));
  return kubeProxyWork.servicePortsWritten;
}

describe("kube-proxy's lines are generated once per model", () => {
  it('a trace on a second data plane writes only the Service port it enters, however many Services there are', () => {
    // Its one port written again for its chains' text (the skim of every port was the first data plane's).
    assert.equal(portsWrittenBySecondDataPlane(model(60)), 1);
    assert.equal(portsWrittenBySecondDataPlane(model(120)), 1);
  });

  it("a trace places its Services' endpoint chains from one index of the cluster's keys, made once", () => {
    const t = model(60);
    kubeProxyWork.endpointKeyIndexes = 0;
    const dp = compileDataPlane(t);
    for (const svc of ['svc1', 'svc2', 'svc3']) {
      const out = traceFlow(t, { from: `pod/${t.pods[0].id}`, to: `svc/${svc}:http` }, dp);
      assert.ok(out.result?.paths.length && out.result.paths.every((p) => p.disposition === 'delivered'), svc);
    }
    assert.equal(kubeProxyWork.endpointKeyIndexes, 1);
  });
});

describe("a skimmed nat table's layout answers `has` as `find` does", () => {
  it('for every chain of the full table, before and after its kinds are placed, and for names it lacks', () => {
    const t = model(40);
    const node = t.nodes[0];
    const input = kubeProxyInput(t, node, 4);
    const names = generateKubeProxyTables(input, newGenerateMemo()).nat.names;
    assert.ok(names.some((n) => n.startsWith('KUBE-SEP-')) && names.some((n) => n.startsWith('KUBE-SVC-')));
    const layout = generateKubeProxyTables(input, newGenerateMemo()).nat.layout;
    assert.ok(layout?.has, 'the table is skimmed');
    const lacking = ['KUBE-SEP-AAAAAAAAAAAAAAAA', 'KUBE-SVC-7777777777777777', 'KUBE-FW-', 'KUBE-SERVICES', 'FOO'];
    const all = [...names, ...lacking];
    // Twice: the second time after every chain found was placed (its kind's names sorted, its offsets read).
    for (let pass = 0; pass < 2; pass++) {
      for (const name of all) assert.equal(layout.has(name), layout.find(name) !== undefined, `${name} (pass ${pass})`);
      for (const name of all) assert.ok((layout.find(name)?.declAt ?? 0) >= 0);
    }
  });
});

describe("a skimmed nat table of a large cluster places every chain where the table's text has it", () => {
  // Over 1,000 endpoints: the skim counts each port's endpoints from their addresses (tallyEndpoints), not listed.
  const files = [{ path: 'c.yaml', text: netpathCluster({ name: 'large', nodes: 6, pods: 1200, services: 30 }) }];
  const t = analyse(files).topology;
  const input = kubeProxyInput(t, t.nodes[0], 4);

  /**
   * A table written with its names, as a reader of its text finds it: where each user chain is declared (from the
   * first user chain declaration) and its lines (from the first rule line), and the characters of each part.
   */
  const textLayout = (named: GeneratedTable, builtins: number) => {
    const declAt = new Map<string, number>();
    let declChars = 0;
    named.chains.slice(builtins).forEach((line, i) => {
      declAt.set(named.names[builtins + i], declChars);
      declChars += line.length + 1;
    });
    const runs = new Map<string, { at: number; lines: string[] }>();
    let ruleChars = 0;
    for (const line of named.rules) {
      const chain = line.split(' ')[1];
      const run = runs.get(chain);
      if (run) run.lines.push(line);
      else runs.set(chain, { at: ruleChars, lines: [line] });
      ruleChars += line.length + 1;
    }
    return { declAt, declChars, runs, ruleChars };
  };

  it("the lengths of its declarations and lines, and each chain's declaration, lines and count", () => {
    const named = generateKubeProxyTables(input, newGenerateMemo()).nat;
    const layout = generateKubeProxyTables(input, newGenerateMemo()).nat.layout;
    assert.ok(layout?.has, 'the table is skimmed');
    const text = textLayout(named, layout.builtins.length);
    assert.equal(layout.declChars, text.declChars);
    assert.equal(layout.ruleChars, text.ruleChars);
    const serviceChains = named.names.filter((n) => /^KUBE-(SVC|SEP|EXT)-/.test(n));
    assert.ok(serviceChains.filter((n) => n.startsWith('KUBE-SEP-')).length >= 1200, 'an endpoint chain per pod');
    for (const name of serviceChains) {
      const found = layout.find(name);
      assert.ok(found, name);
      assert.equal(found.declAt, text.declAt.get(name), `${name} declared`);
      assert.equal(found.runAt, text.runs.get(name)?.at, `${name} lines`);
      assert.equal(found.count, text.runs.get(name)?.lines.length, `${name} count`);
    }
  });

  it("each Service's endpoint chains, once its chains' text is read, named from their keys and placed as the text has them", () => {
    // Each table of a model of its own: the endpoint objects (which keep their chain's name) are not shared.
    const fresh = (): KubeProxyInput => kubeProxyInput(analyse(files).topology, t.nodes[0], 4);
    const named = generateKubeProxyTables(fresh(), newGenerateMemo()).nat;
    const layout = generateKubeProxyTables(fresh(), newGenerateMemo()).nat.layout;
    assert.ok(layout?.has, 'the table is skimmed');
    const text = textLayout(named, layout.builtins.length);
    // A Service chain's text read first writes its port's lines again: its endpoint chains are named then.
    const named0 = kubeProxyWork.endpointChainsNamed;
    for (const name of named.names.filter((n) => n.startsWith('KUBE-SVC-')))
      assert.deepEqual(layout.find(name)?.rules, text.runs.get(name)?.lines, name);
    assert.ok(kubeProxyWork.endpointChainsNamed - named0 >= 1200, 'the endpoint chains were named by the writes');
    for (const name of named.names.filter((n) => n.startsWith('KUBE-SEP-'))) {
      const found = layout.find(name);
      assert.ok(found, name);
      assert.equal(found.declAt, text.declAt.get(name), `${name} declared`);
      assert.equal(found.runAt, text.runs.get(name)?.at, `${name} lines`);
      assert.deepEqual(found.rules, text.runs.get(name)?.lines, `${name} text`);
    }
  });
});

describe('a nat table is skimmed only when no two endpoints of a port share a chain', () => {
  const skimmed = (endpoints: [ip: string, port: number][]): boolean => {
    const input: KubeProxyInput = {
      nodeName: 'n1',
      nodeIPs: ['192.168.0.2'],
      localDetector: { mode: 'None' },
      services: [
        {
          namespace: 'ns',
          name: 's',
          clusterIP: '10.96.0.10',
          ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
          endpoints: endpoints.map(([ip, port]) => ({ ip, ports: { http: port } })),
        },
      ],
    };
    // A skimmed table's layout answers `has` itself (see the test above).
    return generateKubeProxyTables(input, newGenerateMemo()).nat.layout?.has !== undefined;
  };

  it('an address with one port each time, or several ports, is skimmed', () => {
    assert.equal(skimmed([['10.0.0.1', 80]]), true);
    assert.equal(
      skimmed([
        ['10.0.0.1', 80],
        ['10.0.0.2', 80],
      ]),
      true,
    );
    assert.equal(
      skimmed([
        ['10.0.0.1', 80],
        ['10.0.0.1', 81],
        ['10.0.0.2', 80],
        ['10.0.0.1', 82],
      ]),
      true,
    );
  });

  it('the same address and port twice is not (their KUBE-SEP- chain is one)', () => {
    assert.equal(
      skimmed([
        ['10.0.0.1', 80],
        ['10.0.0.1', 80],
      ]),
      false,
    );
    assert.equal(
      skimmed([
        ['10.0.0.1', 80],
        ['10.0.0.2', 80],
        ['10.0.0.1', 81],
        ['10.0.0.1', 81],
      ]),
      false,
    );
    assert.equal(
      skimmed([
        ['10.0.0.1', 80],
        ['10.0.0.1', 81],
        ['10.0.0.1', 80],
      ]),
      false,
    );
  });
});
