/**
 * nat.pod-to-pod and nat.egress-missing name the CNI plug-in the node really runs: the setting of that plug-in
 * that masquerades (bridge/ptp ipMasq, flanneld's --ip-masq, Calico's natOutgoing, kindnet's pod range) in the
 * message, and a quick fix that edits that key where it is written (the NetPath document, the conflist, the
 * IPPool), or none when no key of a file NetPath reads turns it off.
 */
import assert from 'node:assert/strict';
import { analyse, type Problem } from '../../../src/core';

/** Two nodes on one LAN, one pod each; `cni` is the cluster's `cni:` block, `node2` node-2's pod CIDR. */
const TOPOLOGY = (cni: string, node2 = '10.244.2.0/24', pod2 = '10.244.2.10', cluster = '10.244.0.0/16') => `
apiVersion: netpath.dev/v1alpha1
kind: Topology
metadata: {name: culprit}
cluster:
  podCIDRs: [${cluster}]
  serviceCIDRs: [10.96.0.0/12]
  routing: host-gw
${cni}
networks:
  - {name: lan, cidr: 192.168.56.0/24}
nodes:
  - {name: node1, podCIDR: 10.244.1.0/24, interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]}
  - {name: node2, podCIDR: ${node2}, interfaces: [{name: eth0, network: lan, address: 192.168.56.12/24}]}
pods:
  - {name: a, node: node1, ip: 10.244.1.10, containers: [{name: app, ports: [{containerPort: 8080}]}]}
  - {name: b, node: node2, ip: ${pod2}, containers: [{name: app, ports: [{containerPort: 8080}]}]}
`;

/** Calico nodes need a default route (their pods' gateway 169.254.1.1 is answered by proxy ARP only then). */
const WITH_DEFAULT_ROUTES = (text: string) =>
  text.replace(/(address: 192\.168\.56\.1[12]\/24\}\])\}/g, '$1, routes: [{to: default, via: 192.168.56.1}]}');

const BRIDGE_CONFLIST = `{
  "cniVersion": "0.4.0",
  "name": "mynet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "usePodCidr"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`;

const FLANNEL_CFG = `kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": {
        "Type": "host-gw"
      }
    }
`;

const IPPOOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pods
spec:
  cidr: 10.244.0.0/17
  natOutgoing: true
  ipipMode: Never
  vxlanMode: Never
`;

function run(files: Record<string, string>) {
  const list = Object.entries(files).map(([name, text]) => ({ path: `/c/${name}`, text }));
  const a = analyse(list);
  const textAt = (s: { file: string; start: number; end: number }) =>
    list.find((f) => f.path === s.file)?.text.slice(s.start, s.end);
  const lineAt = (s: { file: string; start: number }) => {
    const text = list.find((f) => f.path === s.file)?.text ?? '';
    return text.slice(text.lastIndexOf('\n', s.start - 1) + 1, text.indexOf('\n', s.start)).trim();
  };
  return { a, textAt, lineAt };
}

function podToPod(files: Record<string, string>): { d: Problem; at: string; line: string; file: string } {
  const { a, textAt, lineAt } = run(files);
  const found = a.diagnostics.filter((d) => d.code === 'nat.pod-to-pod');
  assert.equal(found.length, 1, a.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
  const d = found[0];
  return { d, at: textAt(d.span) ?? '', line: lineAt(d.span), file: d.span.file };
}

describe('rules: the CNI plug-in behind a masquerade', () => {
  it('bridge (NetPath cni.ipMasq): the bridge plugin named, "Set ipMasq to false" on cni.ipMasq', () => {
    const { d, line } = podToPod({ 'cluster.netpath.yaml': TOPOLOGY('  cni: {plugin: bridge, ipMasq: true}') });
    assert.match(d.message, /by the CNI bridge plugin's ipMasq rule `-A CNI-[0-9a-f]{24} /);
    assert.equal(line, 'cni: {plugin: bridge, ipMasq: true}');
    assert.deepEqual(
      d.fixes.map((f) => [f.title, f.preferred, f.edits.map((e) => e.newText)]),
      [['Set ipMasq to false', true, ['false']]],
    );
  });

  it("bridge (conflist): the fix edits the conflist's ipMasq value", () => {
    const { d, at, file } = podToPod({
      'cluster.netpath.yaml': TOPOLOGY('  cni: {hairpinMode: true}'),
      '10-mynet.conflist': BRIDGE_CONFLIST,
    });
    assert.match(d.message, /the CNI bridge plugin's ipMasq rule/);
    assert.equal(file, '/c/10-mynet.conflist');
    assert.equal(at, 'true');
    const edit = d.fixes[0]?.edits[0];
    assert.ok(edit);
    assert.equal(edit.span.file, '/c/10-mynet.conflist');
    assert.equal(BRIDGE_CONFLIST.slice(edit.span.start - '"ipMasq": '.length, edit.span.end), '"ipMasq": true');
    assert.equal(edit.newText, 'false');
  });

  it('ptp: the ptp plugin named, the same fix', () => {
    const { d, line } = podToPod({ 'cluster.netpath.yaml': TOPOLOGY('  cni: {plugin: ptp, ipMasq: true}') });
    assert.match(d.message, /by the CNI ptp plugin's ipMasq rule/);
    assert.doesNotMatch(d.message, /bridge/);
    assert.equal(line, 'cni: {plugin: ptp, ipMasq: true}');
    assert.deepEqual(
      d.fixes.map((f) => f.title),
      ['Set ipMasq to false'],
    );
  });

  it("flannel with ipMasq on its delegate: the delegate bridge plugin named, and flannel's own default said", () => {
    const { d } = podToPod({
      'cluster.netpath.yaml': TOPOLOGY('  cni: {plugin: flannel, ipMasq: true, flannel: {network: 10.244.0.0/16}}'),
    });
    assert.match(d.message, /by the ipMasq rule of the CNI bridge plugin flannel delegates to/);
    assert.match(d.message, /flannel's own CNI plug-in runs it with ipMasq: false/);
    assert.deepEqual(
      d.fixes.map((f) => f.title),
      ['Set ipMasq to false'],
    );
  });

  it("flannel (kube-flannel-cfg): flanneld's --ip-masq named at the Network, no fix (the flag is the DaemonSet's)", () => {
    const { d, at, file } = podToPod({
      'cluster.netpath.yaml': TOPOLOGY('  cni: {plugin: flannel}', '10.245.2.0/24', '10.245.2.10'),
      'kube-flannel.yaml': FLANNEL_CFG,
    });
    assert.match(d.message, /by flanneld's --ip-masq rule `-A FLANNEL-POSTRTG /);
    assert.match(d.message, /not a key of kube-flannel-cfg/);
    assert.doesNotMatch(d.message, /bridge plugin/);
    assert.equal(file, '/c/kube-flannel.yaml');
    assert.equal(at, '"10.244.0.0/16"');
    assert.deepEqual(d.fixes, []);
  });

  it('flannel (NetPath cni.flannel.ipMasq): a fix that turns --ip-masq off, not preferred (it ends egress masquerade)', () => {
    const { d, line } = podToPod({
      'cluster.netpath.yaml': TOPOLOGY(
        '  cni:\n    plugin: flannel\n    flannel: {network: 10.244.0.0/16, ipMasq: true}',
        '10.245.2.0/24',
        '10.245.2.10',
      ),
    });
    assert.match(d.message, /flanneld's --ip-masq rule/);
    assert.equal(line, 'flannel: {network: 10.244.0.0/16, ipMasq: true}');
    assert.deepEqual(
      d.fixes.map((f) => [f.title, f.preferred, f.edits.map((e) => e.newText)]),
      [['Set ipMasq to false', false, ['false']]],
    );
  });

  it("Calico (IPPool): the pool's natOutgoing named, the fix edits spec.natOutgoing in the IPPool file", () => {
    const { d, at, file, line } = podToPod({
      'cluster.netpath.yaml': WITH_DEFAULT_ROUTES(TOPOLOGY('  cni: {plugin: calico}', '10.245.2.0/24', '10.245.2.10')),
      'pools.yaml': IPPOOL,
    });
    assert.match(d.message, /by Calico's natOutgoing rule of IPPool pods `-A cali-nat-outgoing -s 10.244.0.0\/17 /);
    assert.doesNotMatch(d.message, /ipMasq/);
    assert.equal(file, '/c/pools.yaml');
    assert.equal(at, 'true');
    assert.equal(line, 'natOutgoing: true');
    assert.deepEqual(
      d.fixes.map((f) => [f.title, f.preferred, f.edits.map((e) => e.newText)]),
      [['Set natOutgoing to false', false, ['false']]],
    );
  });

  it('kindnet: KIND-MASQ-AGENT named at the cluster pod range, no fix (kindnet has no switch)', () => {
    const { d, line } = podToPod({
      'cluster.netpath.yaml': TOPOLOGY('  cni: {plugin: kindnet}', '10.245.2.0/24', '10.245.2.10'),
    });
    assert.match(d.message, /by kindnet's KIND-MASQ-AGENT rule `-A KIND-MASQ-AGENT /);
    assert.match(d.message, /POD_SUBNET/);
    assert.doesNotMatch(d.message, /ipMasq/);
    assert.equal(line, 'podCIDRs: [10.244.0.0/16]');
    assert.deepEqual(d.fixes, []);
  });

  describe('nat.egress-missing says what the plug-in leaves unmasqueraded', () => {
    const INTERNET = (cni: string) =>
      TOPOLOGY(cni).replace(
        '  - {name: node1, podCIDR: 10.244.1.0/24, interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]}',
        '  - name: node1\n    podCIDR: 10.244.1.0/24\n    interfaces: [{name: eth0, network: lan, address: 192.168.56.11/24}]\n    routes: [{to: default, via: 192.168.56.1}]',
      );
    const egress = (files: Record<string, string>) => {
      const { a } = run(files);
      const found = a.diagnostics.filter((d) => d.code === 'nat.egress-missing');
      assert.equal(found.length, 1, a.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
      return found[0].message;
    };
    for (const [name, files, says, advice] of [
      [
        'bridge',
        { 'cluster.netpath.yaml': INTERNET('  cni: {plugin: bridge, ipMasq: false}') },
        /the CNI bridge plugin's ipMasq off/,
        /cni\.ipMasq for single-node clusters/,
      ],
      [
        'ptp',
        { 'cluster.netpath.yaml': INTERNET('  cni: {plugin: ptp}') },
        /the CNI ptp plugin's ipMasq off/,
        /cluster\.masquerade/,
      ],
      [
        'flannel with --ip-masq off',
        {
          'cluster.netpath.yaml': INTERNET(
            '  cni: {plugin: flannel, flannel: {network: 10.244.0.0/16, ipMasq: false}}',
          ),
        },
        /flanneld's --ip-masq off/,
        /cni\.flannel\.ipMasq: true/,
      ],
      [
        'Calico with natOutgoing off',
        { 'cluster.netpath.yaml': INTERNET('  cni: {plugin: calico}'), 'pools.yaml': IPPOOL.replace('true', 'false') },
        /IPPool pods has natOutgoing off/,
        /Set natOutgoing: true on IPPool pods/,
      ],
    ] as const) {
      it(name, () => {
        const message = egress(files);
        assert.match(message, says);
        assert.match(message, advice);
        assert.doesNotMatch(message, /CNI ipMasq off/);
        if (!name.startsWith('bridge') && !name.startsWith('ptp')) assert.doesNotMatch(message, /ipMasq off/i);
      });
    }
  });
});
