/**
 * The topology view's message (src/protocol/topology.ts): the summary sent compact and expanded in the webview is
 * the summary, field for field, for every example, a mistakes-laden topology and a hand-made one with every odd
 * case; the validator refuses a compact summary whose indexes point past their lists; and the message for the
 * editor bench's 15,000-pod topology is a fraction of the summary's JSON (4.6 MB before: sending it took the
 * extension host 0.7 to 2.4 s in the editor bench).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { analyse, type Analysis } from '../../../src/core';
import type { CompactTopology, TopologySummary } from '../../../src/protocol/messages';
import { compactTopology, expandTopology } from '../../../src/protocol/topology';
import { isCompactTopology, isHostMessage } from '../../../src/protocol/validate';
import { compactSummary, summarise } from '../../../src/vscode/view-data';
import { netpathCluster } from '../../../bench/cluster';

const ROOT = path.resolve(__dirname, '../../..');

/** As a message arrives: through JSON (VS Code's postMessage serializes it). */
const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** What the webview draws from: the compact message as it arrives, checked and expanded. */
function received(c: CompactTopology): TopologySummary {
  const arrived = wire(c);
  assert.ok(isCompactTopology(arrived), 'the validator accepts what the host sends');
  assert.ok(isHostMessage({ type: 'topology', state: { view: 'topology', file: 'file:///w/t.yaml' }, data: arrived }));
  return expandTopology(arrived);
}

function example(name: string): Analysis {
  const dir = path.join(ROOT, 'examples', name);
  return analyse(
    fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => ({ path: `/w/${name}/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') })),
  );
}

/** One of everything the compact form has a special case for. */
const ODD: TopologySummary = {
  name: 'odd',
  nodes: [
    {
      name: 'n1',
      addresses: ['eth0 10.0.0.1/24'],
      interfaces: [{ name: 'eth0', network: 'lan', addresses: ['10.0.0.1/24'] }],
      podCIDRs: ['10.244.1.0/24'],
      cni: 'bridge',
      bridge: 'cni0 10.244.1.1/24',
      bridgeName: 'cni0',
      bridgeAddresses: ['10.244.1.1/24'],
      tunnel: { protocol: 'vxlan', device: 'flannel.1', vni: 1, port: 8472 },
      span: { file: '/w/a.yaml', start: 1, end: 3 },
      problems: [{ severity: 'warning', code: 'x.y', message: 'node' }],
    },
  ],
  pods: [
    {
      id: 'default/web',
      namespace: 'default',
      node: 'n1',
      ips: ['10.244.1.2', 'fd00::2'],
      veth: 'veth41d689bb',
      hostNetwork: false,
      labels: { app: 'web', tier: 'front' },
      span: { file: '/w/a.yaml', start: 10, end: 13 },
    },
    {
      // Labels that name Object's own members stay labels; a node the topology lacks; a second file.
      id: 'kube-system/proxy',
      namespace: 'kube-system',
      node: 'ghost',
      ips: [],
      veth: '(host network)',
      hostNetwork: true,
      labels: JSON.parse('{"__proto__":"x","constructor":"y"}') as Record<string, string>,
      span: { file: '/w/b.yaml', start: 5, end: 9 },
      problems: [{ severity: 'error', code: 'ip.duplicate', message: 'twice' }],
    },
    {
      // An id not made as `<namespace>/<name>` (the model never makes one; the compact form keeps it whole), and a
      // veth that is not the one NetPath would name (the first pod's is).
      id: 'strange',
      namespace: 'default',
      node: 'n1',
      ips: ['10.244.1.3'],
      veth: 'veth3',
      hostNetwork: false,
      labels: { app: 'web', tier: 'front' },
      span: { file: '/w/a.yaml', start: 20, end: 27 },
    },
  ],
  services: [
    {
      id: 'default/web',
      namespace: 'default',
      type: 'ClusterIP',
      clusterIPs: ['10.96.0.10'],
      endpointPods: ['default/web', 'elsewhere/gone', 'strange'],
      ports: ['http 80/TCP'],
      span: { file: '/w/b.yaml', start: 30, end: 33 },
    },
  ],
  externals: [
    { name: 'client', network: 'lan', addresses: ['10.0.0.99'], span: { file: '/w/b.yaml', start: 40, end: 46 } },
  ],
  networks: [
    { name: 'lan', cidr: '10.0.0.0/24' },
    { name: 'wan', cidr: '192.0.2.0/24', span: { file: '/w/c.yaml', start: 0, end: 3 } },
  ],
  diagnostics: 2,
};

describe('topology view message: the summary, compact', () => {
  it('expands to the summary of every example, field for field', () => {
    const names = fs.readdirSync(path.join(ROOT, 'examples')).sort();
    assert.ok(names.includes('mistakes'), 'the examples include one with diagnostics on its elements');
    for (const name of names) {
      const analysis = example(name);
      assert.deepEqual(received(compactSummary(analysis)), wire(summarise(analysis)), name);
    }
  });

  it('expands to the summary with its odd cases: a whole id, a stray node and endpoint, host network, odd labels', () => {
    const back = received(compactTopology(ODD));
    assert.deepEqual(back, wire(ODD));
    assert.deepEqual(Object.keys(back.pods[1].labels), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(back.pods[1].labels), Object.prototype, 'a label did not set a prototype');
  });

  it('refuses indexes past their lists and columns of another length', () => {
    const c = wire(compactTopology(ODD));
    const broken: [
      string,
      (x: { -readonly [K in keyof CompactTopology]: unknown } & Record<string, unknown>) => void,
    ][] = [
      ['a namespace past the list', (x) => (x.pods = { ...c.pods, namespaces: [0, 1, 2] })],
      ['a node past the list', (x) => (x.pods = { ...c.pods, nodes: [0, 1, 9] })],
      ['a label set past the list', (x) => (x.pods = { ...c.pods, labels: [0, 0, 5] })],
      ['a negative index', (x) => (x.pods = { ...c.pods, labels: [0, -1, 0] })],
      ['a fractional index', (x) => (x.pods = { ...c.pods, labels: [0, 0.5, 0] })],
      ['a column one short', (x) => (x.pods = { ...c.pods, ips: [[], []] })],
      ['a veth of a pod past the list', (x) => (x.pods = { ...c.pods, veths: [{ pod: 3, veth: 'v' }] })],
      ['spans one short', (x) => (x.pods = { ...c.pods, spans: c.pods.spans.slice(1) })],
      ['a span in a file past the list', (x) => (x.pods = { ...c.pods, spans: [7, ...c.pods.spans.slice(1)] })],
      ['host network past the pods', (x) => (x.pods = { ...c.pods, hostNetwork: [3] })],
      ['problems of a pod past the list', (x) => (x.pods = { ...c.pods, problems: [{ pod: 3, problems: [] }] })],
      ['an endpoint pod past the pods', (x) => (x.services = [{ ...c.services[0], endpointPods: [3] }])],
      ['a node span in a file past the list', (x) => (x.nodes = [{ ...c.nodes[0], span: [3, 1, 3] }])],
      ['a label set of odd length', (x) => (x.labelSets = [['app']])],
    ];
    assert.ok(isCompactTopology(c));
    for (const [why, breakIt] of broken) {
      const x = wire(c) as unknown as Parameters<typeof breakIt>[0];
      breakIt(x);
      assert.equal(isCompactTopology(x), false, why);
    }
  });

  it("sends the editor bench's 15,000-pod topology in under 1.2 MB, a quarter of its summary's JSON", () => {
    // The editor bench's cluster (bench/editor.ts) under the path a workspace gives it.
    const text = netpathCluster({ name: '15000-pods', nodes: 500, pods: 15000, services: 1000 });
    const analysis = analyse([{ path: '/home/someone/project/15000-pods.netpath.yaml', text }]);
    const full = JSON.stringify(summarise(analysis)).length;
    const sent = JSON.stringify(compactSummary(analysis)).length;
    assert.ok(full > 4_000_000, `the summary is ${full} bytes of JSON`);
    assert.ok(sent < 1_200_000, `the message is ${sent} bytes`);
  });
});
