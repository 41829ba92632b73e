/**
 * The portmap plug-in's hostPort rules: the lines iptables-save prints after the plug-in ran for a pod
 * (containernetworking/plugins plugins/meta/portmap, portmap_iptables.go), and traces through them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compileDataPlane, nodeRulesText, traceFlow } from '../../../src/core';
import { containerIdOf } from '../../../src/core/cni';
import { portmapChainName, portmapRules } from '../../../src/core/cni/portmap';
import { sha512Hex } from '../../../src/core/hash';
import { buildTopology } from '../../../src/core/model/build';
import type { NetfilterStep, Step } from '../../../src/core/trace/types';

const isNetfilterStep = (s: Step): s is NetfilterStep => s.kind === 'netfilter';

const LAB = readFileSync('examples/two-node-lab/cluster.netpath.yaml', 'utf8');
const WEB2 = `  - name: web-2
    node: node2
    ip: 10.244.2.10
    labels: {app: web}
    containers:
      - name: app
        ports: [{name: http, containerPort: 8080}]`;
const withPorts = (ports: string, cni = '') => {
  assert.ok(LAB.includes(WEB2));
  let text = LAB.replace(WEB2, WEB2.replace('[{name: http, containerPort: 8080}]', ports));
  if (cni) text = text.replace('  cni:\n', `  cni:\n${cni}`);
  return buildTopology([{ path: 'lab.netpath.yaml', text }]).topology;
};

describe('cni: portmap (hostPort)', () => {
  it('the chain name is CNI-DN- and sha512(network + container ID), 28 characters', () => {
    const name = portmapChainName('cbr0', 'abc');
    assert.equal(name, `CNI-DN-${sha512Hex('cbr0abc')}`.slice(0, 28));
    assert.equal(name.length, 28);
  });

  it('writes the rules portmap writes, in its order: entry, hairpin, localhost, DNAT per mapping', () => {
    const t = withPorts(
      '[{name: http, containerPort: 8080, hostPort: 8000}, {name: dns, containerPort: 53, hostPort: 5353, protocol: UDP}, {name: admin, containerPort: 9000, hostPort: 9000, hostIP: 192.168.56.12}]',
    );
    const node2 = t.nodes.find((n) => n.name === 'node2')!;
    const pod = t.pods.find((p) => p.name === 'web-2')!;
    const id = containerIdOf(pod);
    const dn = portmapChainName('cbr0', id);
    const comment = `-m comment --comment "dnat name: \\"cbr0\\" id: \\"${id}\\""`;
    const nat = portmapRules(t, node2, [pod]).nat!;
    assert.deepEqual(nat.chains, [
      ':CNI-HOSTPORT-DNAT - [0:0]',
      ':CNI-HOSTPORT-MASQ - [0:0]',
      ':CNI-HOSTPORT-SETMARK - [0:0]',
      `:${dn} - [0:0]`,
    ]);
    assert.deepEqual(nat.rules, [
      '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      '-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
      '-I POSTROUTING 1 -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
      '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
      '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
      // Each entry is inserted at the top of CNI-HOSTPORT-DNAT, tcp then udp: udp ends up first.
      `-A CNI-HOSTPORT-DNAT -p udp ${comment} -m multiport --dports 5353 -j ${dn}`,
      `-A CNI-HOSTPORT-DNAT -p tcp ${comment} -m multiport --dports 8000,9000 -j ${dn}`,
      `-A ${dn} -s 10.244.2.0/24 -p tcp -m tcp --dport 8000 -j CNI-HOSTPORT-SETMARK`,
      `-A ${dn} -s 127.0.0.1/32 -p tcp -m tcp --dport 8000 -j CNI-HOSTPORT-SETMARK`,
      `-A ${dn} -p tcp -m tcp --dport 8000 -j DNAT --to-destination 10.244.2.10:8080`,
      `-A ${dn} -s 10.244.2.0/24 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${dn} -s 127.0.0.1/32 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${dn} -p udp -m udp --dport 5353 -j DNAT --to-destination 10.244.2.10:53`,
      `-A ${dn} -s 10.244.2.0/24 -d 192.168.56.12/32 -p tcp -m tcp --dport 9000 -j CNI-HOSTPORT-SETMARK`,
      `-A ${dn} -s 127.0.0.1/32 -d 192.168.56.12/32 -p tcp -m tcp --dport 9000 -j CNI-HOSTPORT-SETMARK`,
      `-A ${dn} -d 192.168.56.12/32 -p tcp -m tcp --dport 9000 -j DNAT --to-destination 10.244.2.10:8080`.replace(
        '8080',
        '9000',
      ),
    ]);
  });

  it('snat false drops the hairpin machinery; markMasqBit moves the mark; the network name comes from the config', () => {
    const t = withPorts(
      '[{containerPort: 8080, hostPort: 8000}]',
      '    network: kindnet\n    portmap: {snat: true, markMasqBit: 5}\n',
    );
    const node2 = t.nodes.find((n) => n.name === 'node2')!;
    const pod = t.pods.find((p) => p.name === 'web-2')!;
    const rules = portmapRules(t, node2, [pod]).nat!.rules;
    assert.ok(rules.includes('-A CNI-HOSTPORT-MASQ -m mark --mark 0x20/0x20 -j MASQUERADE'));
    assert.ok(rules.some((r) => r.includes(portmapChainName('kindnet', containerIdOf(pod)))));
    const plain = withPorts('[{containerPort: 8080, hostPort: 8000}]', '    portmap: {snat: false}\n');
    const r2 = portmapRules(plain, plain.nodes[1], [plain.pods.find((p) => p.name === 'web-2')!]).nat!;
    assert.ok(!r2.rules.some((r) => /SETMARK|MASQ/.test(r)));
    assert.deepEqual(r2.chains.slice(0, 1), [':CNI-HOSTPORT-DNAT - [0:0]']);
    const off = withPorts('[{containerPort: 8080, hostPort: 8000}]', '    portmap: {enabled: false}\n');
    assert.deepEqual(portmapRules(off, off.nodes[1], off.pods), {});
  });

  it('Show Node Rules has the portmap block on the node with the hostPort, and none elsewhere', () => {
    const t = withPorts('[{containerPort: 8080, hostPort: 8000}]');
    const text2 = nodeRulesText(t, 'node2') ?? '';
    assert.match(
      text2,
      /# CNI portmap plug-in \(hostPort\)\n-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT/,
    );
    assert.doesNotMatch(nodeRulesText(t, 'node1') ?? '', /CNI-HOSTPORT/);
  });

  it('traces: from outside, from a pod of another node, and a pod to its own hostPort (hairpin, masqueraded)', () => {
    const t = withPorts('[{containerPort: 8080, hostPort: 8000}]');
    const dp = compileDataPlane(t);
    const chainsOf = (from: string) => {
      const out = traceFlow(t, { from, to: 'node/node2:8000' }, dp);
      const path = out.result!.paths[0];
      const chains = path.hops.flatMap((h) => h.steps.filter(isNetfilterStep).map((s) => s.chain));
      return { path, chains };
    };
    for (const [from, seen] of [
      ['external/laptop', '192.168.56.100'],
      ['pod/default/client', '10.244.1.10'],
      ['pod/default/web-2', '10.244.2.1'],
    ] as const) {
      const { path, chains } = chainsOf(from);
      assert.equal(path.disposition, 'delivered', from);
      assert.equal(path.sourceSeen, seen, from);
      assert.ok(chains.includes('CNI-HOSTPORT-DNAT') && chains.some((c) => c.startsWith('CNI-DN-')), from);
      assert.equal(chains.includes('CNI-HOSTPORT-SETMARK'), from === 'pod/default/web-2', from);
    }
  });

  it('the newest container comes first in CNI-HOSTPORT-DNAT: the last pod listed wins a hostPort two pods claim', () => {
    // Two pods of node2 with hostPort 8000 (the pod.hostport-conflict diagnostic's case): portmap inserts each new
    // container's entry at the top, so the later one (NetPath: listed later) gets the traffic.
    const web2 = WEB2.replace('[{name: http, containerPort: 8080}]', '[{containerPort: 8080, hostPort: 8000}]');
    const web3 = web2.replace('web-2', 'web-3').replace('10.244.2.10', '10.244.2.11').replace('8080', '9090');
    const other = buildTopology([{ path: 'lab.netpath.yaml', text: LAB.replace(WEB2, `${web2}\n${web3}`) }]).topology;
    const node2 = other.nodes.find((n) => n.name === 'node2')!;
    const pods = other.pods.filter((p) => p.node === 'node2');
    const names = pods.map((p) => p.name);
    assert.ok(names.indexOf('web-3') > names.indexOf('web-2'), 'web-3 is listed after web-2');
    const dn = (name: string) =>
      portmapChainName(other.cluster.cni.network, containerIdOf(pods.find((p) => p.name === name)!));
    const entries = portmapRules(other, node2, pods).nat!.rules.filter((r) => r.startsWith('-A CNI-HOSTPORT-DNAT '));
    assert.deepEqual(
      entries.map((r) => r.split(' -j ')[1]),
      [dn('web-3'), dn('web-2')],
    );
    const out = traceFlow(other, { from: 'external/laptop', to: 'node/node2:8000' });
    const path = out.result!.paths[0];
    assert.equal(path.disposition, 'delivered');
    assert.deepEqual(
      path.nat.filter((e) => e.type === 'DNAT').map((e) => `${e.after.dst}:${e.after.dport}`),
      ['10.244.2.11:9090'],
      'the newer pod web-3 gets the connection',
    );
  });

  it('CNI-HOSTPORT-MASQ is inserted first in POSTROUTING: a hairpin is masqueraded even with the bridge ipMasq on', () => {
    // The bridge plug-in's ipMasq chain ACCEPTs pod-subnet destinations, which ends nat POSTROUTING: were the
    // portmap jump after it (appended), the pod would reach itself through its hostPort with its own address.
    const t = withPorts('[{containerPort: 8080, hostPort: 8000}]', '    ipMasq: true\n');
    assert.equal(t.nodes.find((n) => n.name === 'node2')!.cniIpMasq, true);
    const text = nodeRulesText(t, 'node2') ?? '';
    assert.match(text, /-I POSTROUTING 1 -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ/);
    const out = traceFlow(t, { from: 'pod/default/web-2', to: 'node/node2:8000' });
    const path = out.result!.paths[0];
    assert.equal(path.disposition, 'delivered');
    assert.equal(path.sourceSeen, '10.244.2.1', 'masqueraded to the bridge address by CNI-HOSTPORT-MASQ');
    const post = path.hops
      .flatMap((h) => h.steps.filter(isNetfilterStep))
      .filter((s) => s.hook === 'POSTROUTING' && s.table === 'nat')
      .map((s) => s.chain);
    assert.equal(post[0], 'POSTROUTING');
    assert.ok(post.includes('CNI-HOSTPORT-MASQ'));
    assert.ok(!post.some((c) => /^CNI-[0-9a-f]{24}$/.test(c)), 'the ipMasq chain is not reached');
  });

  it('without the portmap plug-in the port is closed: the node answers with a reset', () => {
    const t = withPorts('[{containerPort: 8080, hostPort: 8000}]', '    portmap: {enabled: false}\n');
    const out = traceFlow(t, { from: 'external/laptop', to: 'node/node2:8000' });
    assert.notEqual(out.result!.paths[0].disposition, 'delivered');
  });
  it("Calico's IPAM hands portmap a /32: the hairpin rule marks the pod alone, not its node's subnet", () => {
    const text = readFileSync('examples/cni-calico/cluster.netpath.yaml', 'utf8');
    assert.ok(text.includes('containerPort: 8080}]'));
    const t = buildTopology([
      {
        path: 'calico.netpath.yaml',
        text: text.replace(/( {2}- name: web-2[\s\S]*?containerPort: 8080)\}\]/, '$1, hostPort: 8000}]'),
      },
    ]).topology;
    const node2 = t.nodes.find((n) => n.name === 'node2');
    const pod = t.pods.find((p) => p.name === 'web-2');
    assert.ok(node2 && pod);
    const dn = portmapChainName(t.cluster.cni.network, containerIdOf(pod));
    const rules = portmapRules(t, node2, [pod]).nat?.rules ?? [];
    assert.ok(
      rules.includes(`-A ${dn} -s 10.244.2.10/32 -p tcp -m tcp --dport 8000 -j CNI-HOSTPORT-SETMARK`),
      rules.join('\n'),
    );
  });

  it('a dual-stack pod gets one entry rule per protocol (iptables and ip6tables each hold one) and a DNAT per family', () => {
    const text = readFileSync('examples/dual-stack/cluster.netpath.yaml', 'utf8').replace(
      'ports: [{name: http, containerPort: 8080}]',
      'ports: [{name: http, containerPort: 8080, hostPort: 8000}]',
    );
    const t = buildTopology([{ path: 'dual.netpath.yaml', text }]).topology;
    const node2 = t.nodes.find((n) => n.name === 'node2');
    const pod = t.pods.find((p) => p.name === 'web');
    assert.ok(node2 && pod);
    const dn = portmapChainName(t.cluster.cni.network, containerIdOf(pod));
    const rules = portmapRules(t, node2, [pod]).nat?.rules ?? [];
    assert.equal(rules.filter((r) => r.startsWith('-A CNI-HOSTPORT-DNAT ')).length, 1);
    assert.deepEqual(
      rules.filter((r) => r.startsWith(`-A ${dn} `)),
      [
        `-A ${dn} -s 10.244.2.0/24 -p tcp -m tcp --dport 8000 -j CNI-HOSTPORT-SETMARK`,
        `-A ${dn} -s 127.0.0.1/32 -p tcp -m tcp --dport 8000 -j CNI-HOSTPORT-SETMARK`,
        `-A ${dn} -p tcp -m tcp --dport 8000 -j DNAT --to-destination 10.244.2.10:8080`,
        `-A ${dn} -s fd00:10:244:2::/64 -p tcp -m tcp --dport 8000 -j CNI-HOSTPORT-SETMARK`,
        `-A ${dn} -p tcp -m tcp --dport 8000 -j DNAT --to-destination [fd00:10:244:2::a]:8080`,
      ],
      'no localhost rule for IPv6 (portmap marks 127.0.0.1 only)',
    );
  });
});
